// Sampler: picks the next token from one sequence's logits.
//
//   rdic::Sampler greedy({});                                  // temperature 0: argmax
//   rdic::Sampler s({.temperature = 0.7f, .top_p = 0.9f, .seed = 42});
//   rdic::TokenId t = s.sample(session.last_logits(seq), n_vocab);
//
// Order of the stochastic chain: grammar -> top-k -> top-p -> min-p -> temperature -> draw
// (seeded). The same options, seed and logits give the same tokens on every run and machine.
//
// Grammar-constrained output (judges, clustering): a GBNF grammar (llama.cpp's format, root rule
// `root`) masks every token that cannot continue a valid string; end-of-generation is allowed
// only once the grammar is complete, so the output always parses.
//   rdic::Sampler s({.grammar = R"(root ::= [1-5])"}, &model);
// Thread-safety: one Sampler per sequence; not shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rdic/engine/types.h"

struct llama_sampler;

namespace rdic {
class Model;
}

namespace rdic {

struct SamplerOptions {
    float temperature = 0.0f;  // <= 0: greedy (argmax), other fields ignored
    int32_t top_k = 0;         // keep the k most likely tokens; 0 = off
    float top_p = 1.0f;        // nucleus: smallest set with cumulative probability >= p; 1 = off
    float min_p = 0.0f;        // drop tokens below min_p * p(max); 0 = off
    uint32_t seed = 0;         // seed of the draw
    std::string grammar{};     // GBNF; "" = unconstrained. Needs the model's vocabulary.
};

// Throws invalid_argument naming the field when a value is out of range.
void validate(const SamplerOptions& options);

class Sampler {
public:
    // `model` is required when options.grammar is set (throws invalid_argument otherwise, and
    // when the grammar does not parse).
    explicit Sampler(const SamplerOptions& options, const Model* model = nullptr);
    ~Sampler();
    Sampler(Sampler&&) noexcept;
    Sampler& operator=(Sampler&&) noexcept;

    TokenId sample(const float* logits, int32_t n_vocab);
    // The distribution sample() draws from (top-k, top-p, min-p, temperature applied), as dense
    // probabilities in `probs` (resized to n_vocab; 0 outside the kept set). Greedy: 1 on the
    // argmax. Not for grammar samplers (throws invalid_argument). Leaves the draw's state alone.
    void distribution(const float* logits, int32_t n_vocab, std::vector<float>& probs);
    bool greedy() const { return chain_ == nullptr && grammar_ == nullptr; }
    bool has_grammar() const { return grammar_ != nullptr || has_grammar_; }

private:
    static llama_sampler* make_grammar(const SamplerOptions& options, const Model* model);
    TokenId sample_greedy_grammar(const float* logits, int32_t n_vocab);

    struct Candidates;                  // candidate array storage, reused across calls
    llama_sampler* chain_ = nullptr;    // stochastic chain (with the grammar first, if any)
    llama_sampler* grammar_ = nullptr;  // greedy decoding under a grammar
    llama_sampler* filter_ = nullptr;   // the chain without its draw (distribution())
    bool has_grammar_ = false;
    std::unique_ptr<Candidates> candidates_;
};

}  // namespace rdic
