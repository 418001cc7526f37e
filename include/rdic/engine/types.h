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

}  // namespace rdic
