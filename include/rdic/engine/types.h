// Distinct integer types for token ids, token positions and sequence ids, so that one cannot be
// passed where another is expected (llama.cpp uses int32_t for all three).
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

namespace rdic {

template <class Tag>
struct StrongInt {
    int32_t value = 0;
    constexpr StrongInt() = default;
    constexpr explicit StrongInt(int32_t v) : value(v) {}
    constexpr auto operator<=>(const StrongInt&) const = default;
};

using TokenId = StrongInt<struct TokenIdTag>;    // vocabulary index
using TokenPos = StrongInt<struct TokenPosTag>;  // position of a token inside its sequence
using SeqId = StrongInt<struct SeqIdTag>;        // KV-cache sequence slot inside one Session

using Tokens = std::vector<TokenId>;

// One sequence's KV state outside its session: its tokens and llama.cpp's serialised cells of
// that sequence (llama_state_seq_get_data). Restorable into any Session of the same model with
// the same KV types (Session::restore); sequence_file.h writes it to disk.
struct SequenceSnapshot {
    Tokens tokens;
    std::vector<uint8_t> kv;
};

}  // namespace rdic
