// The isolation proof, in two parts.
//
// 1. Exact: a cluster's logits do not depend on the *content* of the other clusters decoded next
//    to it. With neighbours of the same token counts (so every kernel sees the same shapes), the
//    cluster's logits are bit-identical for 32 steps whatever the neighbours say. Any leakage
//    through the shared KV pool or the shared batch would show up here as a non-zero difference.
//
// 2. Against a fresh session: decoded alone, the cluster gives the same 32 greedy tokens, and
//    logits within a tolerance. Bit-identity is not expected here: alone, the matrix products
//    and attention run on a 1-sequence batch instead of a 3-sequence one, and llama.cpp's CPU
//    kernels round differently for different shapes. Measured on Gemma 3 270M (2-core x86): max
//    |dlogit| over the 262k vocabulary 0.8-2.0, mean |dlogit| 0.1-0.25, KL(alone||shared) <=
//    0.025 nats per step, max |dlog p| 0.65 over tokens with p > 1e-3. The same numbers appear
//    when the cluster is batched with copies of *itself* (no foreign content at all), so they
//    measure batch shape, not leakage; llama.cpp documents the effect (ggml-org/llama.cpp#3014,
//    #4479). Tolerance per step: KL <= 0.05 nats, and |dlog p| <= 1 for every token the alone run
//    gives p > 1e-3 (max |dlogit| over the whole vocabulary is only reported: it is an extreme
//    value over 262k mostly irrelevant tokens). Greedy tokens must be
//    equal; the only allowed exception is a near-tie (top-2 margin < 0.5 logit in the alone run,
//    i.e. inside the measured rounding noise), after which the two histories differ and the
//    comparison ends. On the CPU build all 32 steps of all three clusters match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "model_fixture.h"
#include "rdic/engine/generate.h"

namespace rdic {
namespace {

constexpr int32_t kSteps = 32;
constexpr double kMaxKlNats = 0.05;
constexpr float kNearTieLogits = 0.5f;
constexpr double kMaxLogProbDiff = 1.0;  // for tokens with p > 1e-3

struct Trace {
    Tokens tokens;
    std::vector<std::vector<float>> logits;  // per step
};

// Decodes the given prompts together in one session (lockstep), recording every step's logits.
std::vector<Trace> decode_together(const std::shared_ptr<const Model>& model,
                                   const std::vector<Tokens>& prompts) {
    Session session(model, {.n_ctx = 2048, .n_seq_max = 4});
    std::vector<Sequence> seqs;
    std::vector<GenerationRequest> reqs;
    for (const auto& p : prompts) seqs.push_back(session.open());
    for (size_t i = 0; i < prompts.size(); ++i) {
        GenerationRequest r;
        r.seq = &seqs[i];
        r.prompt = prompts[i];
        r.max_tokens = kSteps;
        reqs.push_back(std::move(r));
    }
    std::vector<Trace> traces(prompts.size());
    GenerateOptions opts;
    opts.on_logits = [&](size_t i, int32_t, std::span<const float> l) {
        traces[i].logits.emplace_back(l.begin(), l.end());
    };
    GenerateStats stats;
    auto results = generate(session, reqs, opts, &stats);
    for (size_t i = 0; i < prompts.size(); ++i) traces[i].tokens = results[i].tokens;
    // Lockstep: one decode call per step for all sequences, not one per sequence.
    int32_t longest = 0;
    for (const auto& r : results)
        longest = std::max(longest, static_cast<int32_t>(r.tokens.size()));
    EXPECT_LE(stats.n_steps, longest);
    return traces;
}

std::vector<Tokens> cluster_prompts(const Model& model) {
    std::vector<Tokens> out;
    for (const char* p : test::kClusterPrompts) out.push_back(model.tokenize(p, true));
    return out;
}

std::vector<double> log_softmax(const std::vector<float>& l) {
    const float mx = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (float x : l) z += std::exp(double{x} - mx);
    std::vector<double> out(l.size());
    for (size_t i = 0; i < l.size(); ++i) out[i] = double{l[i]} - mx - std::log(z);
    return out;
}

struct Divergence {
    double kl_nats = 0;        // KL(p || q)
    double max_logp_diff = 0;  // over tokens with p > 1e-3
};

Divergence divergence(const std::vector<float>& p_logits, const std::vector<float>& q_logits) {
    const auto lp = log_softmax(p_logits), lq = log_softmax(q_logits);
    Divergence d;
    for (size_t i = 0; i < lp.size(); ++i) {
        d.kl_nats += std::exp(lp[i]) * (lp[i] - lq[i]);
        if (lp[i] > std::log(1e-3))
            d.max_logp_diff = std::max(d.max_logp_diff, std::fabs(lp[i] - lq[i]));
    }
    return d;
}

// The same tokens in a different order: same length, different content.
Tokens scrambled(Tokens t) {
    std::reverse(t.begin() + 1, t.end());  // keep BOS first
    return t;
}

TEST(Isolation, NeighboursContentHasExactlyZeroEffect) {
    const auto model = test::gemma();
    const auto p = cluster_prompts(*model);
    const auto base = decode_together(model, {p[0], p[1], p[2]});
    const auto swapped = decode_together(model, {p[0], scrambled(p[1]), scrambled(p[2])});
    const auto self = decode_together(model, {p[0], Tokens(p[0]), Tokens(p[0])});
    ASSERT_EQ(base[0].logits.size(), static_cast<size_t>(kSteps));
    for (const auto* other : {&swapped, &self}) {
        ASSERT_EQ((*other)[0].tokens, base[0].tokens);
        for (int32_t step = 0; step < kSteps; ++step) {
            ASSERT_EQ((*other)[0].logits[step], base[0].logits[step]) << "step " << step;
        }
    }
}

TEST(Isolation, SecondArchitectureAlsoExact) {
    const auto model = test::smollm();
    const auto p = cluster_prompts(*model);
    const auto base = decode_together(model, {p[1], p[0], p[2]});
    const auto swapped = decode_together(model, {p[1], scrambled(p[0]), scrambled(p[2])});
    for (int32_t step = 0; step < static_cast<int32_t>(base[0].logits.size()); ++step) {
        ASSERT_EQ(swapped[0].logits[step], base[0].logits[step]) << "step " << step;
    }
}

class IsolationTest : public ::testing::TestWithParam<int> {};

TEST_P(IsolationTest, SharedSessionMatchesAloneForEachCluster) {
    const auto model = test::gemma();
    const int cluster = GetParam();
    const auto all = cluster_prompts(*model);
    const auto shared = decode_together(model, all);
    const auto alone = decode_together(model, {all[cluster]});

    const Trace& s = shared[cluster];
    const Trace& a = alone[0];
    ASSERT_EQ(a.tokens.size(), static_cast<size_t>(kSteps)) << "prompt ended early; pick another";
    float worst = 0;
    double worst_kl = 0, worst_logp = 0;
    int32_t n_equal = 0;
    for (int32_t step = 0; step < kSteps; ++step) {
        const auto& ls = s.logits[step];
        const auto& la = a.logits[step];
        ASSERT_EQ(ls.size(), la.size());
        for (size_t v = 0; v < ls.size(); ++v) worst = std::max(worst, std::fabs(ls[v] - la[v]));
        const Divergence d = divergence(la, ls);
        worst_kl = std::max(worst_kl, d.kl_nats);
        worst_logp = std::max(worst_logp, d.max_logp_diff);
        if (s.tokens[step] != a.tokens[step]) {
            std::vector<float> sorted = la;
            std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
            EXPECT_LT(sorted[0] - sorted[1], kNearTieLogits)
                << "greedy token differs at step " << step << " without a near-tie";
            break;
        }
        ++n_equal;
    }
    RecordProperty("max_abs_logit_diff", std::to_string(worst));
    RecordProperty("max_kl_nats", std::to_string(worst_kl));
    RecordProperty("equal_greedy_steps", std::to_string(n_equal));
    std::printf(
        "cluster %d: %d/%d equal greedy steps, max KL %.4f nats, max |dlog p| %.3f, "
        "max |dlogit| %.3f\n",
        cluster, n_equal, kSteps, worst_kl, worst_logp, worst);
    EXPECT_LE(worst_kl, kMaxKlNats) << "cluster " << cluster;
    EXPECT_LE(worst_logp, kMaxLogProbDiff) << "cluster " << cluster;
}

INSTANTIATE_TEST_SUITE_P(Clusters, IsolationTest, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace rdic
