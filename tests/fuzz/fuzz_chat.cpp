// libFuzzer: chat formatting (rdic::ChatTemplate over llama.cpp's llama_chat_apply_template) with
// any template name or text and any messages. Input layout: byte 0 picks the template (one of
// llama.cpp's built-in names, or, for the last value, the text up to the first '\n' is the
// template); the rest is messages separated by '\x1e', each a role byte (0 system, 1 user,
// 2 assistant, other: an invalid role) then its content. Checked: no exception but rdic::Error;
// the user_turn split is exact (head + content + tail == format({system, user content})); a
// content with a NUL byte is refused, never cut.
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "llama.h"
#include "rdic/engine/chat.h"
#include "rdic/error.h"

namespace {

std::vector<std::string> builtin_names() {
    std::vector<const char*> names(256);
    const int32_t n = llama_chat_builtin_templates(names.data(), names.size());
    return {names.begin(), names.begin() + std::min<int32_t>(n, 256)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<std::string> names = builtin_names();
    if (size == 0) return 0;
    std::string rest = rdic::fuzz::as_text(data + 1, size - 1);
    std::string tmpl;
    if (data[0] % (names.size() + 1) == names.size()) {
        const size_t nl = rest.find('\n');
        tmpl = rest.substr(0, nl);
        rest = nl == std::string::npos ? "" : rest.substr(nl + 1);
    } else {
        tmpl = names[data[0] % (names.size() + 1)];
    }
    std::vector<rdic::ChatMessage> msgs;
    size_t at = 0;
    while (at < rest.size()) {
        size_t end = rest.find('\x1e', at);
        if (end == std::string::npos) end = rest.size();
        static const char* kRoles[] = {"system", "user", "assistant", "tool"};
        const auto role = static_cast<unsigned char>(rest[at]) % 4;
        msgs.push_back({kRoles[role], rest.substr(at + 1, end - at - 1)});
        at = end + 1;
    }
    try {
        const rdic::ChatTemplate chat("", "qwen2", tmpl);
        (void)chat.format(msgs, true);
        (void)chat.format(msgs, false);
        if (!msgs.empty() && msgs[0].content.find('\0') == std::string::npos) {
            const std::string& sys = msgs[0].role == "system" ? msgs[0].content : "";
            const std::string content = msgs.back().content;
            rdic::ChatTemplate::UserTurn turn;
            try {
                turn = chat.user_turn(sys);
            } catch (const rdic::Error&) {
                return 0;
            }
            std::vector<rdic::ChatMessage> two;
            if (!sys.empty()) two.push_back({"system", sys});
            two.push_back({"user", content});
            std::string whole;
            try {
                whole = chat.format(two);
            } catch (const rdic::Error&) {
                return 0;  // e.g. the content holds a NUL byte
            }
            // Templates that trim or rewrite the content (some strip whitespace) make the split
            // differ; those that keep it must give exactly head + content + tail.
            if (whole.find(content) != std::string::npos &&
                whole.size() == turn.head.size() + content.size() + turn.tail.size() &&
                whole != turn.head + content + turn.tail) {
                __builtin_trap();
            }
        }
    } catch (const rdic::Error&) {
    }
    return 0;
}
