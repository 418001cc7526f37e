#include "rdic/isolation/prompt.h"

#include "rdic/engine/chat.h"

namespace rdic {

PromptBuilder::PromptBuilder(const Model& model, const std::string& system_prompt,
                             const std::string& chat_template)
    : model_(model), system_prompt_(system_prompt) {
    const ChatFormatter chat(model, chat_template);
    const ChatFormatter::UserTurn turn = chat.user_turn(system_prompt);
    head_text_ = turn.head;
    tail_text_ = turn.tail;
    head_ = chat.tokenize(turn.head);
    tail_ = model.tokenize(turn.tail, false, /*parse_special=*/true);
    stops_ = chat.stop_strings();
}

std::string PromptBuilder::context_block(const std::string& context) {
    // No context (the no_conversation control): the user message is the request alone. Every
    // dataset cluster has turns, so no other plan has an empty context.
    if (context.empty()) return "";
    return context + "\n\n";
}

Tokens PromptBuilder::context(const std::string& context) const {
    return model_.tokenize(context_block(context), false, /*parse_special=*/false);
}

Tokens PromptBuilder::request(const std::string& messages, const std::string& request) const {
    Tokens t = model_.tokenize(messages + request, false, /*parse_special=*/false);
    t.insert(t.end(), tail_.begin(), tail_.end());
    return t;
}

std::string PromptBuilder::visible_text(const std::string& context, const std::string& messages,
                                        const std::string& request) const {
    return system_prompt_ + "\n" + context_block(context) + messages + request;
}

}  // namespace rdic
