#include "rdic/engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "llama.h"
#include "rdic/engine/model.h"
#include "rdic/error.h"

namespace rdic {

struct Sampler::Candidates {
    std::vector<llama_token_data> data;
};

void validate(const SamplerOptions& o) {
    auto bad = [](const char* field, const std::string& why) {
        throw Error(ErrorCode::invalid_argument, std::string("sampling.") + field + ": " + why);
    };
    if (!std::isfinite(o.temperature) || o.temperature < 0 || o.temperature > 100) {
        bad("temperature", "must be in [0, 100]");
    }
    if (o.top_k < 0) bad("top_k", "must be >= 0 (0 = off)");
    if (!(o.top_p > 0 && o.top_p <= 1)) bad("top_p", "must be in (0, 1]");
    if (!(o.min_p >= 0 && o.min_p < 1)) bad("min_p", "must be in [0, 1)");
}

Sampler::Sampler(const SamplerOptions& o, const Model* model) {
    validate(o);
    if (o.temperature <= 0 && o.grammar.empty()) return;  // greedy: plain argmax, no chain needed
    llama_sampler_chain_params cp = llama_sampler_chain_default_params();
    cp.no_perf = true;
    chain_ = llama_sampler_chain_init(cp);
    candidates_ = std::make_unique<Candidates>();
    if (!o.grammar.empty()) add_grammar(o, model);
    if (o.temperature <= 0) {
        llama_sampler_chain_add(chain_, llama_sampler_init_greedy());
        return;
    }
    if (o.top_k > 0) llama_sampler_chain_add(chain_, llama_sampler_init_top_k(o.top_k));
    if (o.top_p < 1) llama_sampler_chain_add(chain_, llama_sampler_init_top_p(o.top_p, 1));
    if (o.min_p > 0) llama_sampler_chain_add(chain_, llama_sampler_init_min_p(o.min_p, 1));
    llama_sampler_chain_add(chain_, llama_sampler_init_temp(o.temperature));
    llama_sampler_chain_add(chain_, llama_sampler_init_dist(o.seed));
}

void Sampler::add_grammar(const SamplerOptions& o, const Model* model) {
    if (model == nullptr) {
        llama_sampler_free(chain_);
        chain_ = nullptr;
        throw Error(ErrorCode::invalid_argument, "sampling.grammar: needs the model's vocabulary");
    }
    llama_sampler* g =
        llama_sampler_init_grammar(llama_model_get_vocab(model->raw()), o.grammar.c_str(), "root");
    if (g == nullptr) {
        llama_sampler_free(chain_);
        chain_ = nullptr;
        throw Error(ErrorCode::invalid_argument,
                    "sampling.grammar: not a valid GBNF grammar with a `root` rule");
    }
    llama_sampler_chain_add(chain_, g);
}

Sampler::~Sampler() {
    if (chain_ != nullptr) llama_sampler_free(chain_);
}

Sampler::Sampler(Sampler&& o) noexcept
    : chain_(std::exchange(o.chain_, nullptr)), candidates_(std::move(o.candidates_)) {}

Sampler& Sampler::operator=(Sampler&& o) noexcept {
    if (this != &o) {
        if (chain_ != nullptr) llama_sampler_free(chain_);
        chain_ = std::exchange(o.chain_, nullptr);
        candidates_ = std::move(o.candidates_);
    }
    return *this;
}

TokenId Sampler::sample(const float* logits, int32_t n_vocab) {
    if (chain_ == nullptr) {
        // Ties resolve to the lowest token id, as in llama.cpp's greedy sampler.
        return TokenId(static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits));
    }
    candidates_->data.resize(static_cast<size_t>(n_vocab));
    llama_token_data* data = candidates_->data.data();
    for (int32_t i = 0; i < n_vocab; ++i) data[i] = llama_token_data{i, logits[i], 0.0f};
    llama_token_data_array arr{data, static_cast<size_t>(n_vocab), -1, false};
    llama_sampler_apply(chain_, &arr);
    const llama_token t = arr.data[arr.selected].id;
    llama_sampler_accept(chain_, t);
    return TokenId(t);
}

}  // namespace rdic
