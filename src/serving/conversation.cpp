#include "rdic/serving/conversation.h"

#include "rdic/error.h"

namespace rdic {

namespace {
// Stands in for message i while the template is applied; survives templates that trim or
// escape text (no whitespace, no markup characters).
std::string placeholder(size_t i) {
    return "RDICMSG" + std::to_string(i) + "X7Q";
}
}  // namespace

Tokens conversation_tokens(const ChatFormatter& chat, const Model& model,
                           const std::vector<ChatMessage>& messages) {
    std::vector<ChatMessage> marked = messages;
    for (size_t i = 0; i < marked.size(); ++i) marked[i].content = placeholder(i);
    const std::string text = chat.format(marked, /*add_assistant_prefix=*/true);
    Tokens out;
    size_t pos = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string ph = placeholder(i);
        const size_t at = text.find(ph, pos);
        if (at == std::string::npos) {
            throw Error(ErrorCode::invalid_argument,
                        "the chat template dropped or reordered message " + std::to_string(i));
        }
        const std::string markup = text.substr(pos, at - pos);
        const Tokens m = pos == 0 ? chat.tokenize(markup)
                                  : model.tokenize(markup, false, /*parse_special=*/true);
        out.insert(out.end(), m.begin(), m.end());
        const Tokens c = model.tokenize(messages[i].content, false, /*parse_special=*/false);
        out.insert(out.end(), c.begin(), c.end());
        pos = at + ph.size();
    }
    const Tokens tail = model.tokenize(text.substr(pos), false, /*parse_special=*/true);
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

size_t common_prefix(const Tokens& a, const Tokens& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

}  // namespace rdic
