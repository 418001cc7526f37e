// Benchmark workloads: a synthetic example shaped like the proof of concept's, token-exact for
// the model's own tokenizer (the text carries no meaning; only its length matters).
//
//   auto model = rdic::Model::load({.path = path});
//   rdic::Example ex = rdic::synthetic_poc_example(*model);          // 420 / 450 / 220 tokens
//   rdic::WorkloadShape shape = rdic::measure_shape(*model, ex);     // what the tokenizer says
//
// The POC's example: two topic clusters of ~420 and ~450 tokens of context and a synthesis
// cluster whose own turns (~220 tokens) plus the two topic outputs (2 x 300 tokens) make its
// ~830-token context; all turns together are the ~1,090-token shared context of the baseline
// conditions. Thread-safety: pure functions of their arguments (Model const methods).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"

namespace rdic {

struct SyntheticOptions {
    std::vector<int32_t> topic_tokens = {420, 450};  // context tokens per topic cluster
    int32_t synthesis_tokens = 220;                  // the synthesis cluster's own turns
    int32_t turns_per_topic = 6;
    int32_t turns_synthesis = 2;
    uint32_t seed = 1;  // word choice (any seed gives the same token counts)
};

// An rdic.dataset/v1-equivalent example (id "synthetic-poc", interleaved topic turns, synthesis
// turns last) whose clusters' context blocks tokenize to exactly the requested lengths, give or
// take one token where a word boundary cannot hit the count. Throws invalid_argument for
// non-positive sizes.
Example synthetic_poc_example(const Model& model, const SyntheticOptions& options = {});

// Tokens of each cluster's context block (its turns joined as the plans join them) and of all
// turns together (the shared context of the baseline conditions).
struct WorkloadShape {
    std::vector<std::pair<std::string, int64_t>> cluster_tokens;  // cluster id -> tokens
    int64_t shared_tokens = 0;
};
WorkloadShape measure_shape(const Model& model, const Example& example);

}  // namespace rdic
