// Embedder: text -> one pooled, L2-normalised hidden-state vector of a model. The one embedder of
// rdic: similarity metrics (evaluation), turn clustering and online topic routing all use it.
//
//   rdic::Embedder emb(model, {.pooling = rdic::Pooling::last,
//                              .template_text = "Topic of: {text}\nTopic:"});
//   std::vector<float> v = emb.embed("Our goalkeeper saved a penalty.");
//   double sim = rdic::cosine(v, emb.embed("The striker scored twice."));
//
// The text is placed into `template_text` ("{text}" is replaced; a template without it gets the
// text appended), tokenized with one BOS where the vocabulary wants one and control tokens parsed
// only in the template (never in the text, so a user cannot inject them), cut to max_tokens, and
// run through Session::embed (mean or last-token pooling).
//
// Ownership: holds one llama_context (embeddings on) on the shared Model.
// Thread-safety: embed() may be called from any thread; calls are serialised by an internal
// mutex (one context), so many conversations' routers can share one Embedder.
// Failure: engine errors propagate as rdic::Error; nothing is cached.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/model.h"
#include "rdic/engine/session.h"

namespace rdic {

struct EmbedderOptions {
    int32_t max_tokens = 2048;  // longer texts are cut to their first max_tokens tokens
    int32_t n_threads = 0;      // CPU threads of the embedding context; 0 = all
    Pooling pooling = Pooling::mean;
    // Text around the input; "{text}" is replaced by it ("" = the text alone). Control tokens
    // written in the template (e.g. "<|im_start|>") are parsed as such.
    std::string template_text{};
};

class Embedder {
public:
    // Throws invalid_argument for max_tokens < 1; engine errors when the context cannot be made.
    Embedder(std::shared_ptr<const Model> model, const EmbedderOptions& options = {});
    ~Embedder();
    Embedder(const Embedder&) = delete;
    Embedder& operator=(const Embedder&) = delete;

    // Pooled, L2-normalised embedding of `text` under the template (an empty text without a
    // template embeds as BOS alone, or a single space where the vocabulary has no BOS).
    std::vector<float> embed(std::string_view text);
    // The tokens embed() would run for `text` (after templating and cutting).
    Tokens tokens_of(std::string_view text) const;
    int32_t n_truncated() const;  // texts cut so far
    const EmbedderOptions& options() const { return options_; }
    const Model& model() const { return *model_; }

private:
    Tokens prepare(std::string_view text, bool& cut) const;
    std::shared_ptr<const Model> model_;
    EmbedderOptions options_;
    mutable std::mutex mutex_;
    std::unique_ptr<Session> session_;  // guarded by mutex_
    int32_t n_truncated_ = 0;           // guarded by mutex_
};

// Cosine similarity; 0 when either vector is zero. Throws invalid_argument on size mismatch.
double cosine(std::span<const float> a, std::span<const float> b);

}  // namespace rdic
