#include "rdic/engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
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
    candidates_ = std::make_unique<Candidates>();
    has_grammar_ = !o.grammar.empty();
    if (!o.grammar.empty()) grammar_ = make_grammar(o, model);
    if (o.temperature <= 0) return;  // greedy under a grammar: see sample()
    llama_sampler_chain_params cp = llama_sampler_chain_default_params();
    cp.no_perf = true;
    if (grammar_ == nullptr) {
        filter_ = llama_sampler_chain_init(cp);
        if (o.top_k > 0) llama_sampler_chain_add(filter_, llama_sampler_init_top_k(o.top_k));
        if (o.top_p < 1) llama_sampler_chain_add(filter_, llama_sampler_init_top_p(o.top_p, 1));
        if (o.min_p > 0) llama_sampler_chain_add(filter_, llama_sampler_init_min_p(o.min_p, 1));
        llama_sampler_chain_add(filter_, llama_sampler_init_temp(o.temperature));
    }
    chain_ = llama_sampler_chain_init(cp);
    if (grammar_ != nullptr) llama_sampler_chain_add(chain_, std::exchange(grammar_, nullptr));
    if (o.top_k > 0) llama_sampler_chain_add(chain_, llama_sampler_init_top_k(o.top_k));
    if (o.top_p < 1) llama_sampler_chain_add(chain_, llama_sampler_init_top_p(o.top_p, 1));
    if (o.min_p > 0) llama_sampler_chain_add(chain_, llama_sampler_init_min_p(o.min_p, 1));
    llama_sampler_chain_add(chain_, llama_sampler_init_temp(o.temperature));
    llama_sampler_chain_add(chain_, llama_sampler_init_dist(o.seed));
}

llama_sampler* Sampler::make_grammar(const SamplerOptions& o, const Model* model) {
    if (model == nullptr) {
        throw Error(ErrorCode::invalid_argument, "sampling.grammar: needs the model's vocabulary");
    }
    llama_sampler* g =
        llama_sampler_init_grammar(llama_model_get_vocab(model->raw()), o.grammar.c_str(), "root");
    if (g == nullptr) {
        throw Error(ErrorCode::invalid_argument,
                    "sampling.grammar: not a valid GBNF grammar with a `root` rule");
    }
    return g;
}

Sampler::~Sampler() {
    if (chain_ != nullptr) llama_sampler_free(chain_);
    if (grammar_ != nullptr) llama_sampler_free(grammar_);
    if (filter_ != nullptr) llama_sampler_free(filter_);
}

Sampler::Sampler(Sampler&& o) noexcept
    : chain_(std::exchange(o.chain_, nullptr)),
      grammar_(std::exchange(o.grammar_, nullptr)),
      filter_(std::exchange(o.filter_, nullptr)),
      has_grammar_(o.has_grammar_),
      candidates_(std::move(o.candidates_)) {}

Sampler& Sampler::operator=(Sampler&& o) noexcept {
    if (this != &o) {
        if (chain_ != nullptr) llama_sampler_free(chain_);
        if (grammar_ != nullptr) llama_sampler_free(grammar_);
        if (filter_ != nullptr) llama_sampler_free(filter_);
        chain_ = std::exchange(o.chain_, nullptr);
        grammar_ = std::exchange(o.grammar_, nullptr);
        filter_ = std::exchange(o.filter_, nullptr);
        has_grammar_ = o.has_grammar_;
        candidates_ = std::move(o.candidates_);
    }
    return *this;
}

void Sampler::distribution(const float* logits, int32_t n_vocab, std::vector<float>& probs) {
    if (has_grammar_) {
        throw Error(ErrorCode::invalid_argument,
                    "sampling: no explicit distribution under a grammar");
    }
    probs.assign(static_cast<size_t>(n_vocab), 0.0f);
    if (filter_ == nullptr) {  // greedy: all mass on the argmax (lowest id on ties)
        probs[static_cast<size_t>(std::max_element(logits, logits + n_vocab) - logits)] = 1.0f;
        return;
    }
    std::vector<llama_token_data>& data = candidates_->data;
    data.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) data[i] = llama_token_data{i, logits[i], 0.0f};
    llama_token_data_array arr{data.data(), static_cast<size_t>(n_vocab), -1, false};
    llama_sampler_apply(filter_, &arr);
    float max_logit = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < arr.size; ++i) max_logit = std::max(max_logit, arr.data[i].logit);
    double sum = 0;
    for (size_t i = 0; i < arr.size; ++i) {
        if (arr.data[i].logit == -std::numeric_limits<float>::infinity()) continue;
        sum += std::exp(double{arr.data[i].logit} - max_logit);
    }
    for (size_t i = 0; i < arr.size; ++i) {
        if (arr.data[i].logit == -std::numeric_limits<float>::infinity()) continue;
        probs[static_cast<size_t>(arr.data[i].id)] =
            static_cast<float>(std::exp(double{arr.data[i].logit} - max_logit) / sum);
    }
}

TokenId Sampler::sample(const float* logits, int32_t n_vocab) {
    if (grammar_ != nullptr) return sample_greedy_grammar(logits, n_vocab);
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

TokenId Sampler::sample_greedy_grammar(const float* logits, int32_t n_vocab) {
    // Checking a token against the grammar costs far more than a logit comparison (262k-token
    // vocabularies), so the most likely tokens are checked first: the best of them that the
    // grammar accepts is the argmax over all accepted tokens. First the argmax alone (ties go to
    // the lowest id, as below); when the grammar rejects it, the 64 likeliest, then the next
    // 8,192, and only when none of those fits, the whole vocabulary. Order: logit descending,
    // then token id ascending.
    const auto accept = [&](llama_token t) {
        llama_sampler_accept(grammar_, t);
        return TokenId(t);
    };
    {
        const auto a =
            static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits);
        llama_token_data one{a, logits[a], 0.0f};
        llama_token_data_array arr{&one, 1, -1, false};
        llama_sampler_apply(grammar_, &arr);
        if (one.logit != -std::numeric_limits<float>::infinity()) return accept(a);
    }
    constexpr int32_t kFirst = 64, kSecond = 8192;
    std::vector<llama_token_data>& data = candidates_->data;
    data.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) data[i] = llama_token_data{i, logits[i], 0.0f};
    const auto better = [](const llama_token_data& a, const llama_token_data& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    };
    const int32_t n_first = std::min(kFirst, n_vocab);
    const int32_t n_second = std::min(kSecond, n_vocab);
    // The rounds pick the best accepted token by `better` themselves: only the split matters.
    std::nth_element(data.begin(), data.begin() + n_second - 1, data.end(), better);
    std::nth_element(data.begin(), data.begin() + n_first - 1, data.begin() + n_second, better);
    // Each round checks only the tokens the previous rounds did not: those were all rejected.
    const llama_token_data* best = nullptr;
    size_t checked = 0;
    for (const size_t n :
         {static_cast<size_t>(n_first), static_cast<size_t>(n_second), data.size()}) {
        llama_token_data_array arr{data.data() + checked, n - checked, -1, false};
        llama_sampler_apply(grammar_, &arr);  // sets rejected tokens' logits to -inf
        for (size_t i = checked; i < n; ++i) {
            if (data[i].logit == -std::numeric_limits<float>::infinity()) continue;
            if (best == nullptr || better(data[i], *best)) best = &data[i];
        }
        if (best != nullptr) break;
        checked = n;
    }
    if (best == nullptr) {
        throw Error(ErrorCode::backend_failure, "sampling.grammar: no token can continue");
    }
    return accept(best->id);
}

}  // namespace rdic
