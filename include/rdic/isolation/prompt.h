// The one prompt builder. Every prompt rdic generates from (the executor's outputs and questions,
// the bench's dumped prompts, the server's topics) is
//
//   head      the chat template up to the user content, with the system prompt
//   context   a plan's context block: its rendered turns + "\n\n"   (may be shared, then forked)
//   messages  earlier outputs passed to a synthesis (render_messages), then the request
//   tail      the template's end of the user turn and start of the assistant's reply
//
// head and tail are tokenized once; context and request are tokenized without special tokens, so
// text in a conversation can never inject template markup.
//
//   rdic::PromptBuilder p(*model, "You are a helpful assistant.");
//   rdic::Tokens prompt = p.head();
//   append(prompt, p.context(plan.outputs[0].context));
//   append(prompt, p.request(messages, plan.outputs[0].request));
#pragma once

#include <string>
#include <vector>

#include "rdic/engine/model.h"

namespace rdic {

class PromptBuilder {
public:
    // Throws invalid_argument when the model's chat template drops the user message.
    PromptBuilder(const Model& model, const std::string& system_prompt,
                  const std::string& chat_template = "");

    // Text of a context block: the context, then a blank line before what follows; "" for an
    // empty context (nothing at all between the head and the request).
    static std::string context_block(const std::string& context);

    const Tokens& head() const { return head_; }
    Tokens context(const std::string& context) const;
    // messages + request + tail.
    Tokens request(const std::string& messages, const std::string& request) const;

    const std::string& head_text() const { return head_text_; }
    const std::string& tail_text() const { return tail_text_; }
    // What the prompt says, without the template's markup: the text a copy of the prompt is
    // measured against (copy share).
    std::string visible_text(const std::string& context, const std::string& messages,
                             const std::string& request) const;
    // Stop strings the turn format implies.
    const std::vector<std::string>& stops() const { return stops_; }

private:
    const Model& model_;
    std::string system_prompt_;
    std::string head_text_, tail_text_;
    Tokens head_, tail_;
    std::vector<std::string> stops_;
};

}  // namespace rdic
