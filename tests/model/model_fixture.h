// Shared fixtures for model tests: the real GGUF models from the model cache, loaded once per
// test binary. A missing model fails the test with a hint (scripts/setup.sh fetches them).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "rdic/engine/model.h"

#include <vector>

namespace rdic::test {

std::filesystem::path gemma_path();   // Gemma 3 270M Q4_K_M (base, sliding window): engine tests
std::filesystem::path smollm_path();  // SmolLM2-135M-Instruct Q4_1 (llama architecture)

std::shared_ptr<const Model> gemma();
std::shared_ptr<const Model> smollm();
// The default model (build_info::kDefaultModelFile, Qwen2.5-Coder-0.5B-Instruct Q4_K_M): routing
// and the speculative draft.
std::shared_ptr<const Model> qwen05();

// True when the model's layers run on a GPU backend (the CUDA build on the device).
bool on_gpu(const Model& model);

// How close two decodes must be. On the CPU backend, decodes with the same batch shapes and the
// same KV layout are bit-identical, so `exact` comparisons demand equality. GPU kernels may split
// attention differently when the KV range differs (masked cells included), so there the same
// comparisons use the tolerances measured on the H200 (docs/engine.md).
struct Tolerance {
    bool exact = true;             // demand bit-identical logits where shapes and layout match
    double kl_nats = 0.05;         // per step, between two decodes of different batch shapes
    double logp = 1.0;             // max |dlog p| over tokens with p > 1e-3
    float near_tie_logits = 0.5f;  // a greedy flip is allowed only below this top-2 margin
};
Tolerance tolerance(const Model& model);

// Greedy tokens and per-step logits of one decode.
struct Trace {
    Tokens tokens;
    std::vector<std::vector<float>> logits;
};

struct Comparison {
    int32_t n_equal_steps = 0;  // greedy steps that agree before the first (near-tie) flip
    double max_kl_nats = 0;     // KL(reference || other), per step
    double max_logp_diff = 0;   // over tokens with reference p > 1e-3
    float max_abs_logit_diff = 0;
};

// Compares `other` with `reference` step by step (gtest expectations inside). With `exact`,
// logits must be bit-identical; otherwise tokens must agree except at a near-tie (after which
// the comparison stops) and the divergences must stay within `tol`.
Comparison expect_same_decode(const Trace& reference, const Trace& other, const Tolerance& tol,
                              bool exact);

// Three prompts on unrelated topics, each a few dozen tokens, used as "clusters".
extern const char* const kClusterPrompts[3];

}  // namespace rdic::test
