// Conversation tokens: messages -> the model's chat-template tokens, where the template's markup
// becomes control tokens and the messages' text never does (a user who writes "<|im_start|>"
// gets those characters, not a turn boundary).
//
//   rdic::Tokens t = rdic::conversation_tokens(chat, model, {{"user", "Hi"}});
//
// The same messages always give the same tokens, and a conversation extended by more messages
// gives tokens that start with the shorter one's (up to the last assistant reply's end), which
// is what lets a topic sequence prefill only its new turn.
#pragma once

#include <string>
#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/model.h"

namespace rdic {

// Throws invalid_argument when the template drops or reorders a message's text.
Tokens conversation_tokens(const ChatFormatter& chat, const Model& model,
                           const std::vector<ChatMessage>& messages);

// A reply's text as conversation_tokens tokenises an assistant message (never control tokens).
Tokens reply_tokens(const Model& model, const std::string& reply);

// The tokens that extend a conversation by one user message without rendering it again. With P
// = conversation_tokens(msgs) (msgs ending with a user message; system prompt `system` first
// when not empty) and `reply` the assistant's answer to it:
//   conversation_tokens(msgs + {assistant reply, user u})
//       == P + reply_tokens(reply) + next_turn_tokens(system, u)
// for templates whose markup between two turns does not depend on the turn's position (ChatML,
// Gemma, Llama 3; tests/model/test_chat.cpp checks it on the cached models). O(|u|).
Tokens next_turn_tokens(const ChatFormatter& chat, const Model& model, const std::string& system,
                        const std::string& user);

// Length of the longest common prefix of a and b.
size_t common_prefix(const Tokens& a, const Tokens& b);

}  // namespace rdic
