// ChatTemplate: llama.cpp's built-in chat templates applied to messages, without a model.
#include <string_view>
#include <vector>

#include "llama.h"
#include "rdic/engine/chat.h"
#include "rdic/error.h"

namespace rdic {

namespace {

bool is_builtin_name(const std::string& name) {
    std::vector<const char*> names(128);
    const int32_t n = llama_chat_builtin_templates(names.data(), names.size());
    for (int32_t i = 0; i < n && i < static_cast<int32_t>(names.size()); ++i) {
        if (name == names[i]) return true;
    }
    return false;
}

}  // namespace

ChatTemplate::ChatTemplate(std::string gguf_template, const std::string& architecture,
                           std::string override_template) {
    if (!override_template.empty()) {
        template_ = std::move(override_template);
        source_ = is_builtin_name(template_) ? "override (" + template_ + ")" : "override (text)";
    } else if (!gguf_template.empty()) {
        template_ = std::move(gguf_template);
        source_ = "gguf";
    } else {
        template_ = architecture.rfind("gemma", 0) == 0 ? "gemma" : "chatml";
        source_ = "architecture default (" + template_ + ")";
    }
    // A model that keeps talking past its turn starts the next one: stop there.
    if (template_ == "gemma" || template_.find("<start_of_turn>") != std::string::npos) {
        stops_ = {"<end_of_turn>", "<start_of_turn>"};
    } else if (template_ == "chatml" || template_.find("<|im_start|>") != std::string::npos) {
        stops_ = {"<|im_end|>", "<|im_start|>"};
    }
}

ChatTemplate::UserTurn ChatTemplate::user_turn(const std::string& system_prompt) const {
    static constexpr std::string_view kMarker = "\x1fRDIC_USER_CONTENT\x1f";
    std::vector<ChatMessage> msgs;
    if (!system_prompt.empty()) msgs.push_back({"system", system_prompt});
    msgs.push_back({"user", std::string(kMarker)});
    const std::string full = format(msgs);
    const size_t at = full.find(kMarker);
    if (at == std::string::npos || full.find(kMarker, at + 1) != std::string::npos) {
        throw Error(ErrorCode::invalid_argument,
                    "chat template (" + source_ + ") does not keep the user message exactly once");
    }
    return {full.substr(0, at), full.substr(at + kMarker.size())};
}

std::string ChatTemplate::format(const std::vector<ChatMessage>& messages,
                                 bool add_assistant_prefix) const {
    std::vector<llama_chat_message> msgs;
    msgs.reserve(messages.size());
    size_t total = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (m.role != "system" && m.role != "user" && m.role != "assistant") {
            throw Error(ErrorCode::invalid_argument, "chat message " + std::to_string(i) +
                                                         ": role '" + m.role +
                                                         "' (expected system, user or assistant)");
        }
        if (const size_t nul = m.content.find('\0'); nul != std::string::npos) {
            throw Error(ErrorCode::invalid_argument, "chat message " + std::to_string(i) +
                                                         ": content has a NUL byte at offset " +
                                                         std::to_string(nul));
        }
        msgs.push_back({m.role.c_str(), m.content.c_str()});
        total += m.role.size() + m.content.size();
    }
    std::string buf(2 * total + 256, '\0');
    int32_t n =
        llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(), add_assistant_prefix,
                                  buf.data(), static_cast<int32_t>(buf.size()));
    if (n > static_cast<int32_t>(buf.size())) {
        buf.resize(static_cast<size_t>(n));
        n = llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(),
                                      add_assistant_prefix, buf.data(),
                                      static_cast<int32_t>(buf.size()));
    }
    if (n < 0) {
        throw Error(ErrorCode::invalid_argument,
                    "chat template (" + source_ +
                        ") is not one llama.cpp can apply; pass --chat-template gemma|chatml|...");
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
}

}  // namespace rdic
