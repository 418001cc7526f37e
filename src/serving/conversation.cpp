#include "rdic/serving/conversation.h"

#include "rdic/error.h"

namespace rdic {

namespace {
// Stands in for message i while the template is applied; survives templates that trim or
// escape text (no whitespace, no markup characters).
std::string placeholder(size_t i) {
    return "RDICMSG" + std::to_string(i) + "X7Q";
}

// The template's markup around `messages`: markup[i] comes before message i, markup.back()
// after the last one (the assistant prefix included).
std::vector<std::string> markup_of(const ChatFormatter& chat,
                                   const std::vector<ChatMessage>& messages) {
    std::vector<ChatMessage> marked = messages;
    for (size_t i = 0; i < marked.size(); ++i) marked[i].content = placeholder(i);
    const std::string text = chat.format(marked, /*add_assistant_prefix=*/true);
    std::vector<std::string> markup;
    size_t pos = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string ph = placeholder(i);
        const size_t at = text.find(ph, pos);
        if (at == std::string::npos) {
            throw Error(ErrorCode::invalid_argument,
                        "the chat template dropped or reordered message " + std::to_string(i));
        }
        markup.push_back(text.substr(pos, at - pos));
        pos = at + ph.size();
    }
    markup.push_back(text.substr(pos));
    return markup;
}

void append(Tokens& out, const Tokens& more) {
    out.insert(out.end(), more.begin(), more.end());
}
}  // namespace

Tokens conversation_tokens(const ChatFormatter& chat, const Model& model,
                           const std::vector<ChatMessage>& messages) {
    const std::vector<std::string> markup = markup_of(chat, messages);
    Tokens out;
    for (size_t i = 0; i < messages.size(); ++i) {
        append(out, i == 0 ? chat.tokenize(markup[i])
                           : model.tokenize(markup[i], false, /*parse_special=*/true));
        append(out, model.tokenize(messages[i].content, false, /*parse_special=*/false));
    }
    append(out, model.tokenize(markup.back(), false, /*parse_special=*/true));
    return out;
}

Tokens reply_tokens(const Model& model, const std::string& reply) {
    return model.tokenize(reply, false, /*parse_special=*/false);
}

Tokens next_turn_tokens(const ChatFormatter& chat, const Model& model, const std::string& system,
                        const std::string& user) {
    std::vector<ChatMessage> shape;
    if (!system.empty()) shape.push_back({"system", "s"});
    shape.push_back({"user", "u"});
    shape.push_back({"assistant", "a"});
    shape.push_back({"user", "u"});
    const std::vector<std::string> markup = markup_of(chat, shape);
    const size_t last = shape.size() - 1;
    Tokens out = model.tokenize(markup[last], false, /*parse_special=*/true);
    append(out, model.tokenize(user, false, /*parse_special=*/false));
    append(out, model.tokenize(markup.back(), false, /*parse_special=*/true));
    return out;
}

size_t common_prefix(const Tokens& a, const Tokens& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

}  // namespace rdic
