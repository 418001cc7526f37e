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

// The model-free part: a chat template (llama.cpp's built-in templates, by name or detected from
// template text) applied to messages. No model, no tokenizer: what the chat fuzzer exercises.
class ChatTemplate {
public:
    // `gguf_template`: the GGUF's template text ("" = it has none); `architecture`: the GGUF's
    // general.architecture (picks the default when there is no template); `override_template`:
    // a built-in name ("gemma", "chatml", ...) or template text, winning over both.
    ChatTemplate(std::string gguf_template, const std::string& architecture,
                 std::string override_template = "");

    // Formats `messages`; with `add_assistant_prefix` the text ends where the model's reply
    // starts. Throws invalid_argument for an unknown role, a NUL byte in a content (llama.cpp
    // reads C strings: the rest would be dropped silently), or a template llama.cpp cannot apply.
    std::string format(const std::vector<ChatMessage>& messages,
                       bool add_assistant_prefix = true) const;

    // The prompt of one user turn (after `system_prompt`, if not empty) around its content:
    // `head + content + tail` == format({system, user: content}). Lets a caller tokenize the
    // fixed parts once. Throws invalid_argument when the template drops the user message.
    struct UserTurn {
        std::string head, tail;
    };
    UserTurn user_turn(const std::string& system_prompt) const;

    // "gguf", "architecture default (gemma)", or "override (...)".
    const std::string& source() const { return source_; }
    // Extra stop strings the turn format implies (e.g. "<end_of_turn>" rendered as text).
    const std::vector<std::string>& stop_strings() const { return stops_; }

private:
    std::string template_;
    std::string source_;
    std::vector<std::string> stops_;
};

// A ChatTemplate with the model's template and tokenizer.
class ChatFormatter {
public:
    // `override_template`: a llama.cpp built-in template name ("gemma", "chatml", ...) or
    // template text; empty = use the GGUF's, else the architecture default.
    explicit ChatFormatter(const Model& model, std::string override_template = "");

    std::string format(const std::vector<ChatMessage>& messages,
                       bool add_assistant_prefix = true) const {
        return template_.format(messages, add_assistant_prefix);
    }
    using UserTurn = ChatTemplate::UserTurn;
    UserTurn user_turn(const std::string& system_prompt) const {
        return template_.user_turn(system_prompt);
    }

    // Tokenizes a formatted prompt with control tokens parsed and exactly one leading BOS when
    // the vocabulary wants one (none otherwise), whether or not the template wrote one.
    Tokens tokenize(const std::string& formatted) const;

    const std::string& template_source() const { return template_.source(); }
    const std::vector<std::string>& stop_strings() const { return template_.stop_strings(); }

private:
    const Model& model_;
    ChatTemplate template_;
};

}  // namespace rdic
