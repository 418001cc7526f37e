#include "rdic/isolation/together.h"

namespace rdic {

namespace {

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

}  // namespace

std::string together_refusal(const TogetherNeeds& needs, const TogetherLimits& limits) {
    if (needs.n_sequences > limits.max_sequences) {
        return std::to_string(needs.n_sequences) +
               " sequences in one session; the engine holds at most " +
               std::to_string(limits.max_sequences);
    }
    if (needs.n_kv_cells > limits.max_kv_cells) {
        return std::to_string(needs.n_kv_cells) + " KV cells in one session; at most " +
               std::to_string(limits.max_kv_cells);
    }
    if (needs.kv_bytes > limits.max_kv_bytes) {
        return mib(needs.kv_bytes) +
               " of KV cache in one session; the limit for running "
               "conditions together is " +
               mib(limits.max_kv_bytes);
    }
    return "";
}

}  // namespace rdic
