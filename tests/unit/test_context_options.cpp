// The one parser of each context option's names (--flash-attn, --kv-layout): every accepted
// name, and one clear error naming the option and the accepted values for anything else.
#include "rdic/engine/context_options.h"

#include <gtest/gtest.h>

#include <string>

#include "rdic/error.h"

namespace rdic {
namespace {

TEST(ContextOptions, FlashAttnAcceptsItsThreeNames) {
    EXPECT_EQ(parse_flash_attn("auto"), FlashAttn::automatic);
    EXPECT_EQ(parse_flash_attn("on"), FlashAttn::on);
    EXPECT_EQ(parse_flash_attn("off"), FlashAttn::off);
}

TEST(ContextOptions, FlashAttnRefusesAnythingElseNamingTheValueAndTheAcceptedOnes) {
    for (const char* bad : {"maybe", "", "ON", "true", "1", "auto "}) {
        try {
            parse_flash_attn(bad);
            FAIL() << "'" << bad << "' was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
            EXPECT_EQ(std::string(e.what()),
                      "flash attention '" + std::string(bad) + "' (expected auto, on, off)");
        }
    }
}

TEST(ContextOptions, KvLayoutNamesRoundTripAndBadOnesAreRefused) {
    EXPECT_EQ(parse_kv_layout("auto"), std::nullopt);
    for (const KvLayout l : {KvLayout::unified, KvLayout::per_sequence}) {
        EXPECT_EQ(parse_kv_layout(to_string(l)), l);
    }
    EXPECT_EQ(parse_kv_layout("per-sequence"), KvLayout::per_sequence);
    try {
        parse_kv_layout("sideways");
        FAIL() << "'sideways' was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_EQ(std::string(e.what()),
                  "KV layout 'sideways' (expected auto, unified, per_sequence)");
    }
}

}  // namespace
}  // namespace rdic
