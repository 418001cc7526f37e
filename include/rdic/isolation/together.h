// Whether several conditions of one example fit one Session (`rdic run` runs the batched
// conditions of an example together by default; rdic/isolation/executor.h check_together measures
// what a group needs, this decides). Pure: no engine, no model.
//
//   const std::string why = rdic::together_refusal({.n_sequences = 40, .n_kv_cells = 20480,
//                                                  .kv_bytes = 250 << 20},
//                                                 {.max_sequences = 256, ...});
//   if (!why.empty()) ...  // run the conditions one by one instead
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rdic {

// What one together Session of a group of plans would allocate.
struct TogetherNeeds {
    int32_t n_sequences = 0;  // sequences alive at once at most (the session's n_seq_max)
    int64_t n_kv_cells = 0;   // KV cells of the session, all streams together
    uint64_t kv_bytes = 0;    // bytes of those cells over all layers
};

struct TogetherLimits {
    int32_t max_sequences = 0;  // the engine's kMaxSessionSequences
    int64_t max_kv_cells = 0;   // llama.cpp's n_ctx is 32-bit
    uint64_t max_kv_bytes = 0;  // ExecutorOptions::together_max_kv_bytes
};

// "" when `needs` is within every limit; else one line naming the first limit exceeded with both
// numbers ("58 sequences in one session; the engine holds at most 256"). A limit of 0 allows
// nothing (a misconfiguration shows as a refusal, never as an unchecked run).
std::string together_refusal(const TogetherNeeds& needs, const TogetherLimits& limits);

// Whether `rdic run` executes the batched conditions of an example together when neither
// --together nor --separate-conditions is given: only when every layer's weights are on an
// accelerator (ModelInfo::layer_device, e.g. "CUDA0"). There a decode step is latency-bound and
// one shared batch saves most of the steps (docs/performance.md: 9.87 s vs 20.0 s on an H100);
// on a CPU a step is compute-bound and the shared pool's attention spans every condition's cells,
// so together is slower (docs/experiment.md: 574.8 s vs 391.1 s on the 2-core VM). An explicit
// choice wins. `why` (optional) gets one line saying what was decided and why.
bool together_by_default(const std::vector<std::string>& layer_device, std::optional<bool> chosen,
                         std::string* why = nullptr);

}  // namespace rdic
