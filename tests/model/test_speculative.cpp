// Speculative decoding (GenerateOptions::draft): greedy outputs equal plain decoding's, the
// acceptance accounting adds up, and a draft with another vocabulary is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "model_fixture.h"
#include "rdic/build_info.h"
#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/error.h"
#include "rdic/model_paths.h"

namespace rdic {
namespace {

struct Outcome {
    std::vector<GenerationResult> results;
    std::vector<Tokens> kv_tokens;  // what each sequence holds afterwards
    std::vector<test::Trace> traces;
    GenerateStats stats;
    // Per rejection: the target's logit margin of its own argmax over the draft's proposal.
    std::vector<float> rejection_margins;
};

// Generates every prompt in one lockstep batch, with `draft` (or plainly when null).
Outcome run(const std::shared_ptr<const Model>& target, const std::shared_ptr<const Model>& draft,
            const std::vector<Tokens>& prompts, int32_t max_tokens, bool ignore_eog,
            const SamplerOptions& sampling = {}, std::vector<std::string> stop = {},
            float draft_p_min = 0.0f) {
    const SessionOptions so{.n_ctx = 1024, .n_seq_max = 4, .n_threads = 2};
    Session session(target, so);
    std::optional<Session> draft_session;
    GenerateOptions opts;
    if (draft) {
        draft_session.emplace(draft, so);
        opts.draft = &*draft_session;
        opts.n_draft_max = 4;
        opts.draft_p_min = draft_p_min;
    }
    std::vector<Sequence> seqs;
    std::vector<GenerationRequest> reqs;
    for (size_t i = 0; i < prompts.size(); ++i) seqs.push_back(session.open());
    for (size_t i = 0; i < prompts.size(); ++i) {
        GenerationRequest r;
        r.seq = &seqs[i];
        r.prompt = prompts[i];
        r.max_tokens = max_tokens;
        r.ignore_eog = ignore_eog;
        r.sampling = sampling;
        r.sampling.seed = sampling.seed + static_cast<uint32_t>(i);
        r.stop = stop;
        reqs.push_back(std::move(r));
    }
    Outcome out;
    out.traces.resize(prompts.size());
    opts.on_logits = [&](size_t i, int32_t, std::span<const float> l) {
        out.traces[i].logits.emplace_back(l.begin(), l.end());
    };
    opts.on_rejected = [&](size_t, int32_t, TokenId proposed, std::span<const float> l) {
        out.rejection_margins.push_back(*std::max_element(l.begin(), l.end()) -
                                        l[static_cast<size_t>(proposed.value)]);
    };
    out.results = generate(session, reqs, opts, &out.stats);
    for (const Sequence& s : seqs) out.kv_tokens.push_back(s.tokens());
    for (size_t i = 0; i < prompts.size(); ++i) out.traces[i].tokens = out.results[i].tokens;
    return out;
}

// Greedy: the same tokens as plain decoding, except that a flip is allowed at a near-tie
// between the two best tokens (verification decodes several tokens per call; on the CPU backend
// that rounds differently from one-token steps, as any change of batch shape does); after a
// flip the comparison stops. Without one: the same text, stop reason and KV contents.
void expect_same_outputs(const Model& model, const Outcome& plain, const Outcome& spec) {
    ASSERT_EQ(plain.results.size(), spec.results.size());
    for (size_t i = 0; i < plain.results.size(); ++i) {
        const test::Comparison c = test::expect_same_decode(
            plain.traces[i], spec.traces[i], test::tolerance(model), /*exact=*/false);
        if (static_cast<size_t>(c.n_equal_steps) < plain.traces[i].logits.size()) continue;
        EXPECT_EQ(plain.results[i].tokens, spec.results[i].tokens) << "request " << i;
        EXPECT_EQ(plain.results[i].text, spec.results[i].text) << "request " << i;
        EXPECT_EQ(plain.results[i].stop_reason, spec.results[i].stop_reason) << "request " << i;
        EXPECT_EQ(plain.kv_tokens[i], spec.kv_tokens[i]) << "request " << i;
    }
}

std::vector<Tokens> cluster_prompts(const Model& model) {
    std::vector<Tokens> prompts;
    for (const char* p : test::kClusterPrompts) prompts.push_back(model.tokenize(p, true));
    return prompts;
}

TEST(Speculative, SameModelAsDraftAcceptsAllButNearTiesAndMatchesPlain) {
    const auto model = test::smollm();
    const auto prompts = cluster_prompts(*model);
    const Outcome plain = run(model, nullptr, prompts, 20, /*ignore_eog=*/true);
    const Outcome spec = run(model, model, prompts, 20, /*ignore_eog=*/true);
    expect_same_outputs(*model, plain, spec);
    int64_t drafted = 0, accepted = 0;
    for (const GenerationResult& r : spec.results) {
        const SpeculationStats& s = r.speculation;
        EXPECT_GT(s.n_drafted, 0);
        // Each target call yields its t0 plus the accepted proposals.
        EXPECT_EQ(s.n_target_calls + s.n_accepted, r.timing.n_generated);
        EXPECT_LT(s.n_target_calls, r.timing.n_generated);
        drafted += s.n_drafted;
        accepted += s.n_accepted;
    }
    // The model agrees with itself: every rejection is a near-tie that the two batch shapes
    // round differently.
    for (const float m : spec.rejection_margins)
        EXPECT_LT(m, test::tolerance(*model).near_tie_logits);
    EXPECT_GE(accepted * 10, drafted * 8) << accepted << " of " << drafted;
    EXPECT_EQ(spec.stats.n_drafted, drafted);
    EXPECT_EQ(spec.stats.n_accepted, accepted);
    EXPECT_LT(spec.stats.n_steps, plain.stats.n_steps);
    for (const GenerationResult& r : plain.results) EXPECT_EQ(r.speculation.n_drafted, 0);
}

TEST(Speculative, StopsAtEndOfGenerationAndStopStringsLikePlain) {
    const auto model = test::smollm();
    const ChatFormatter chat(*model, "");
    std::vector<Tokens> prompts;
    for (const char* q : {"Name three colours.", "What is two plus two? Answer in one word."}) {
        prompts.push_back(chat.tokenize(chat.format({{"user", q}})));
    }
    const Outcome plain = run(model, nullptr, prompts, 48, false, {}, {"\n\n", "Blue"});
    const Outcome spec = run(model, model, prompts, 48, false, {}, {"\n\n", "Blue"});
    expect_same_outputs(*model, plain, spec);
}

TEST(Speculative, SampledSameModelIsReproducibleAndMostlyAccepted) {
    const auto model = test::smollm();
    const auto prompts = cluster_prompts(*model);
    const SamplerOptions sampling{.temperature = 0.8f, .top_p = 0.95f, .seed = 7};
    const Outcome a = run(model, model, prompts, 16, true, sampling);
    const Outcome b = run(model, model, prompts, 16, true, sampling);
    for (size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ(a.results[i].tokens, b.results[i].tokens);
        EXPECT_EQ(a.results[i].timing.n_generated, 16);
        EXPECT_EQ(a.kv_tokens[i].size(), prompts[i].size() + 16);
    }
    // p and q differ only by the batch shape's rounding: min(1, p/q) is ~1 for every proposal.
    EXPECT_GE(a.stats.n_accepted * 10, a.stats.n_drafted * 9)
        << a.stats.n_accepted << " of " << a.stats.n_drafted;
}

TEST(Speculative, DraftPMinProposesLessAndKeepsTheOutputs) {
    const auto model = test::smollm();
    const std::vector<Tokens> prompts = {model->tokenize(test::kClusterPrompts[0], true)};
    const Outcome plain = run(model, nullptr, prompts, 16, true);
    const Outcome all = run(model, model, prompts, 16, true);
    const Outcome cut = run(model, model, prompts, 16, true, {}, {}, 0.9f);
    expect_same_outputs(*model, plain, cut);
    EXPECT_LT(cut.stats.n_drafted, all.stats.n_drafted);
    EXPECT_GT(cut.stats.n_draft_calls, 0);
    EXPECT_EQ(cut.results[0].speculation.n_target_calls + cut.results[0].speculation.n_accepted,
              16);
}

// The acceptance rule alone (no model): proposals drawn from q, kept or resampled, end up
// distributed as p, also where q puts mass p does not (token 3) and misses mass p has.
TEST(Speculative, AcceptanceRuleFollowsTheTargetDistribution) {
    const std::vector<float> p = {0.5f, 0.3f, 0.2f, 0.0f, 0.0f};
    const std::vector<float> q = {0.1f, 0.2f, 0.3f, 0.4f, 0.0f};
    std::mt19937_64 rng(11);
    std::discrete_distribution<int32_t> from_q(q.begin(), q.end());
    std::vector<float> scratch;
    std::vector<int64_t> count(p.size());
    int64_t accepted = 0;
    constexpr int kTrials = 200000;
    for (int t = 0; t < kTrials; ++t) {
        const TokenId d(from_q(rng));
        const SpeculativeVerdict v = speculative_accept(p, q, d, rng, scratch);
        accepted += v.accepted ? 1 : 0;
        ++count[static_cast<size_t>(v.token.value)];
    }
    for (size_t i = 0; i < p.size(); ++i) {
        EXPECT_NEAR(static_cast<double>(count[i]) / kTrials, p[i], 0.005) << "token " << i;
    }
    // P(accept) = sum over tokens of min(p, q) = 0.1 + 0.2 + 0.2 = 0.5.
    EXPECT_NEAR(static_cast<double>(accepted) / kTrials, 0.5, 0.005);
}

TEST(Speculative, RefusesADraftWithAnotherVocabulary) {
    try {
        check_same_vocabulary(*test::smollm(), *test::gemma());
        FAIL() << "accepted another vocabulary";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        const std::string what = e.what();
        EXPECT_NE(what.find(test::smollm_path().filename().string()), std::string::npos) << what;
        EXPECT_NE(what.find(test::gemma_path().filename().string()), std::string::npos) << what;
    }
    EXPECT_NO_THROW(check_same_vocabulary(*test::smollm(), *test::smollm()));
}

// The real pair: Qwen2.5-Coder-1.5B-Instruct verifying Qwen2.5-Coder-0.5B-Instruct's drafts.
TEST(Speculative, QwenHalfBillionDraftForOnePointFiveBillionTargetMatchesPlain) {
    const auto large = model_cache_dir() / build_info::kLargeModelFile;
    if (!std::filesystem::exists(large)) {
        GTEST_SKIP() << large << " is missing (RDIC_WITH_LARGE_MODEL=1 ./scripts/setup.sh)";
    }
    const auto target = Model::load({.path = large});
    const auto draft = test::qwen05();
    check_same_vocabulary(*target, *draft);
    const ChatFormatter chat(*target, "");
    const std::vector<Tokens> prompts = {
        chat.tokenize(chat.format({{"user", "Write a Python function that reverses a string."}}))};
    const Outcome plain = run(target, nullptr, prompts, 24, true);
    const Outcome spec = run(target, draft, prompts, 24, true);
    expect_same_outputs(*target, plain, spec);
    const SpeculationStats& s = spec.results[0].speculation;
    EXPECT_GT(s.n_accepted, 0);
    EXPECT_LE(s.n_accepted, s.n_drafted);
    EXPECT_LT(s.n_target_calls, spec.results[0].timing.n_generated);
}

}  // namespace
}  // namespace rdic
