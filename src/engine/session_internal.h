// Session's per-sequence bookkeeping, shared by session.cpp and session_state.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rdic/engine/session.h"

namespace rdic {

// A run of consecutive positions whose KV cells were written together. Forks share segments by
// pointer identity, so the distinct cells of the pool can be counted without asking llama.cpp.
struct Session::Segment {
    std::shared_ptr<const int> block;  // identity of the cells' origin
    int32_t begin = 0;
    int32_t end = 0;  // [begin, end)
};

struct Session::SeqState {
    bool live = false;
    Tokens tokens;
    std::vector<Segment> segments;
    int32_t logits_index = -1;       // output row in llama.cpp's logits buffer, -1 = none
    std::vector<float> logits_copy;  // used when a later decode call overwrote that buffer
    bool logits_copied = false;
    std::vector<float> all_logits;  // rows of the last all_logits prefill, n_vocab floats each
    int32_t n_all_logits = 0;       // rows in all_logits
};

}  // namespace rdic
