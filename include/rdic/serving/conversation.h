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

#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/model.h"

namespace rdic {

// Throws invalid_argument when the template drops or reorders a message's text.
Tokens conversation_tokens(const ChatFormatter& chat, const Model& model,
                           const std::vector<ChatMessage>& messages);

// Length of the longest common prefix of a and b.
size_t common_prefix(const Tokens& a, const Tokens& b);

}  // namespace rdic
