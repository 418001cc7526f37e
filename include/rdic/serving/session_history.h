// What a session's stored turns give a new request, the same for both ChatServices (the
// in-process engine and the upstream forwarder): the routers' replay history, a topic's
// conversation as chat messages, and a synthesis request's prompt.
//
//   auto msgs = rdic::topic_messages(store, key, "s1", "travel", system, "And in May?");
//   rdic::Tokens p = rdic::synthesis_prompt(builder, store, key, "s1", "Sum it up");
//
// Thread-safety: pure functions over a thread-safe store.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/types.h"
#include "rdic/isolation/prompt.h"
#include "rdic/serving/store.h"

namespace rdic {

// The topic under which synthesis requests store their turns (never routed to).
inline constexpr const char* kSynthesisTopic = "_synthesis";

// (topic, user text) of the session's user turns in the order they arrived (the routers keep
// recency state), topic by topic where two share a millisecond; synthesis turns left out.
std::vector<std::pair<std::string, std::string>> routing_history(const SessionStore& store,
                                                                 const std::string& key,
                                                                 const std::string& session_id);

// [system (when non-empty)], the topic's stored turns, then {"user", user_text}. *n_stored gets
// the number of stored turns (0: the topic opens with this request).
std::vector<ChatMessage> topic_messages(const SessionStore& store, const std::string& key,
                                        const std::string& session_id, const std::string& topic,
                                        const std::string& system, const std::string& user_text,
                                        size_t* n_stored);

// head + each topic's latest answer (as messages) + the request, as PromptBuilder composes it.
// Throws ApiError(400, "synthesis") when no topic has an answer yet.
Tokens synthesis_prompt(const PromptBuilder& builder, const SessionStore& store,
                        const std::string& key, const std::string& session_id,
                        const std::string& user_text);

}  // namespace rdic
