#include "rdic/engine/embedder.h"

#include <algorithm>
#include <cmath>

#include "rdic/error.h"

namespace rdic {

Embedder::Embedder(std::shared_ptr<const Model> model, const EmbedderOptions& options)
    : model_(std::move(model)), options_(options) {
    if (!model_) throw Error(ErrorCode::invalid_argument, "embedder: no model");
    if (options.max_tokens < 1) {
        throw Error(ErrorCode::invalid_argument, "embedder: max_tokens must be >= 1");
    }
    session_ = std::make_unique<Session>(model_, SessionOptions{.n_ctx = options.max_tokens,
                                                                .n_seq_max = 1,
                                                                .n_batch = options.max_tokens,
                                                                .n_ubatch = options.max_tokens,
                                                                .n_threads = options.n_threads,
                                                                .embeddings = true,
                                                                .pooling = options.pooling});
}

Embedder::~Embedder() = default;

Tokens Embedder::tokens_of(std::string_view text) const {
    bool cut = false;
    return prepare(text, cut);
}

Tokens Embedder::prepare(std::string_view text, bool& cut) const {
    const Model& m = *model_;
    const std::string& tmpl = options_.template_text;
    Tokens t;
    if (tmpl.empty()) {
        t = m.tokenize(text.empty() ? std::string_view(" ") : text, /*add_bos=*/true,
                       /*parse_special=*/false);
    } else {
        // Template parts with control tokens parsed, the text without.
        const auto at = tmpl.find("{text}");
        const std::string head = tmpl.substr(0, at);
        const std::string tail = at == std::string::npos ? "" : tmpl.substr(at + 6);
        t = m.tokenize(head, /*add_bos=*/true, /*parse_special=*/true);
        const Tokens body = m.tokenize(text, false, false);
        const Tokens end = m.tokenize(tail, false, true);
        // Cut the text, not the template, so last-token pooling still reads the template's end.
        const auto room =
            static_cast<int64_t>(options_.max_tokens) - static_cast<int64_t>(t.size() + end.size());
        const auto n_body =
            std::min<int64_t>(static_cast<int64_t>(body.size()), std::max<int64_t>(room, 0));
        cut = n_body < static_cast<int64_t>(body.size());
        t.insert(t.end(), body.begin(), body.begin() + n_body);
        t.insert(t.end(), end.begin(), end.end());
    }
    if (t.empty()) t.push_back(m.bos());
    if (static_cast<int32_t>(t.size()) > options_.max_tokens) {
        cut = true;
        t.resize(static_cast<size_t>(options_.max_tokens));
    }
    return t;
}

std::vector<float> Embedder::embed(std::string_view text) {
    bool cut = false;
    const Tokens t = prepare(text, cut);
    std::lock_guard lock(mutex_);
    n_truncated_ += cut;
    return session_->embed(t);
}

int32_t Embedder::n_truncated() const {
    std::lock_guard lock(mutex_);
    return n_truncated_;
}

double cosine(std::span<const float> a, std::span<const float> b) {
    if (a.size() != b.size()) {
        throw Error(ErrorCode::invalid_argument, "cosine: vectors of " + std::to_string(a.size()) +
                                                     " and " + std::to_string(b.size()) +
                                                     " dimensions");
    }
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        dot += double{a[i]} * b[i];
        na += double{a[i]} * a[i];
        nb += double{b[i]} * b[i];
    }
    return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
}

}  // namespace rdic
