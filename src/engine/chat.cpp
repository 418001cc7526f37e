#include "rdic/engine/chat.h"

#include <utility>

namespace rdic {

ChatFormatter::ChatFormatter(const Model& model, std::string override_template)
    : model_(model),
      template_(model.chat_template(), model.info().architecture, std::move(override_template)) {}

Tokens ChatFormatter::tokenize(const std::string& formatted) const {
    Tokens toks = model_.tokenize(formatted, /*add_bos=*/true, /*parse_special=*/true);
    if (!model_.info().add_bos) {
        // A template may write the BOS text although the vocabulary does not want one: keep it
        // (the template knows best) but never more than one.
        if (toks.size() >= 2 && toks[0] == model_.bos() && toks[1] == model_.bos()) {
            toks.erase(toks.begin());
        }
    }
    return toks;
}

}  // namespace rdic
