// Chat prompts: messages -> the model's prompt text, using the GGUF's own chat template.
//
//   rdic::ChatFormatter chat(*model);
//   std::string prompt = chat.format({{"system", "Be brief."}, {"user", "Hi"}});
//   rdic::Tokens toks = chat.tokenize(prompt);   // exactly one BOS where the model wants one
//
// When the GGUF carries no template (the default Gemma 3 270M is a base model without one) the
// formatter uses the architecture's native turn format (gemma -> "gemma", otherwise "chatml"),
// and says so in `template_source()`. An explicit template name or text overrides both.
#pragma once

#include <string>
#include <vector>

#include "rdic/engine/model.h"

namespace rdic {

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

class ChatFormatter {
public:
    // `override_template`: a llama.cpp built-in template name ("gemma", "chatml", ...) or
    // template text; empty = use the GGUF's, else the architecture default.
    explicit ChatFormatter(const Model& model, std::string override_template = "");

    // Formats `messages`; with `add_assistant_prefix` the text ends where the model's reply
    // starts. Throws invalid_argument for an unknown role or a template llama.cpp cannot apply.
    std::string format(const std::vector<ChatMessage>& messages,
                       bool add_assistant_prefix = true) const;

    // The prompt of one user turn (after `system_prompt`, if not empty) around its content:
    // `head + content + tail` == format({system, user: content}). Lets a caller tokenize the
    // fixed parts once. Throws invalid_argument when the template drops the user message.
    struct UserTurn {
        std::string head, tail;
    };
    UserTurn user_turn(const std::string& system_prompt) const;

    // Tokenizes a formatted prompt with control tokens parsed and exactly one leading BOS when
    // the vocabulary wants one (none otherwise), whether or not the template wrote one.
    Tokens tokenize(const std::string& formatted) const;

    // "gguf", "architecture default (gemma)", or "override (...)".
    const std::string& template_source() const { return source_; }
    // Extra stop strings the turn format implies (e.g. "<end_of_turn>" rendered as text).
    const std::vector<std::string>& stop_strings() const { return stops_; }

private:
    const Model& model_;
    std::string template_;
    std::string source_;
    std::vector<std::string> stops_;
};

}  // namespace rdic
