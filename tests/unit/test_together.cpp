// The decision whether several conditions of one example run in one session (rdic run's default):
// within every limit they do; past any, the refusal names the limit and both numbers. No model.
#include <gtest/gtest.h>

#include "rdic/isolation/together.h"

namespace rdic {
namespace {

const TogetherLimits kLimits{
    .max_sequences = 256, .max_kv_cells = 1 << 20, .max_kv_bytes = uint64_t{4} << 30};

TEST(Together, WithinEveryLimitRunsTogether) {
    EXPECT_EQ(
        together_refusal({.n_sequences = 256, .n_kv_cells = 1 << 20, .kv_bytes = uint64_t{4} << 30},
                         kLimits),
        "");
    EXPECT_EQ(
        together_refusal({.n_sequences = 14, .n_kv_cells = 6144, .kv_bytes = 72 << 20}, kLimits),
        "");
}

TEST(Together, EachLimitPastIsNamedWithBothNumbers) {
    EXPECT_EQ(together_refusal({.n_sequences = 257, .n_kv_cells = 512, .kv_bytes = 1}, kLimits),
              "257 sequences in one session; the engine holds at most 256");
    EXPECT_EQ(
        together_refusal({.n_sequences = 4, .n_kv_cells = (1 << 20) + 1, .kv_bytes = 1}, kLimits),
        "1048577 KV cells in one session; at most 1048576");
    EXPECT_EQ(
        together_refusal({.n_sequences = 4, .n_kv_cells = 512, .kv_bytes = (uint64_t{4} << 30) + 1},
                         kLimits),
        "4097 MiB of KV cache in one session; the limit for running conditions together "
        "is 4096 MiB");
}

TEST(Together, AZeroLimitAllowsNothing) {
    EXPECT_NE(together_refusal({.n_sequences = 1, .n_kv_cells = 1, .kv_bytes = 1}, {}), "");
}

}  // namespace
}  // namespace rdic

TEST(Together, ByDefaultOnlyWhenEveryLayerIsOnAnAccelerator) {
    std::string why;
    EXPECT_TRUE(rdic::together_by_default({"CUDA0", "CUDA0"}, std::nullopt, &why));
    EXPECT_NE(why.find("weights on CUDA0"), std::string::npos) << why;
    EXPECT_FALSE(rdic::together_by_default({"CPU", "CPU"}, std::nullopt, &why));
    EXPECT_NE(why.find("weights on the CPU"), std::string::npos) << why;
    // One layer left on the CPU, an unreadable load log, no layers: one by one.
    EXPECT_FALSE(rdic::together_by_default({"CUDA0", "CPU"}, std::nullopt));
    EXPECT_FALSE(rdic::together_by_default({"CUDA0", "?"}, std::nullopt));
    EXPECT_FALSE(rdic::together_by_default({}, std::nullopt));
    // An explicit choice wins either way.
    EXPECT_TRUE(rdic::together_by_default({"CPU"}, true, &why));
    EXPECT_NE(why.find("--together"), std::string::npos) << why;
    EXPECT_FALSE(rdic::together_by_default({"CUDA0"}, false, &why));
    EXPECT_NE(why.find("--separate-conditions"), std::string::npos) << why;
}
