// The experiment end to end on the real 270M model: every condition on shipped examples,
// batched against naive execution, KV accounting per condition.
#include <gtest/gtest.h>

#include <cstdio>

#include "model_fixture.h"
#include "rdic/isolation/executor.h"

namespace rdic {
namespace {

Example load(const std::string& name) {
    const LoadResult r = load_example(std::string(RDIC_DATA_DIR) + "/" + name);
    EXPECT_TRUE(r.issues.empty()) << (r.issues.empty() ? "" : r.issues[0].to_string());
    return *r.example;
}

ExecutorOptions small(bool naive = false) {
    ExecutorOptions o;
    o.max_tokens = 12;
    o.naive = naive;
    return o;
}

class ExperimentTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExperimentTest, EveryConditionProducesEveryOutput) {
    const auto model = test::gemma();
    const Example ex = load(GetParam());
    std::map<Condition, ConditionResult> results;
    for (Condition c : kAllConditions) {
        const ConditionResult r = run_condition(model, ex, make_plan(ex, c), small());
        ASSERT_EQ(r.outputs.size(), ex.clusters.size()) << to_string(c);
        for (size_t i = 0; i < r.outputs.size(); ++i) {
            EXPECT_EQ(r.outputs[i].cluster_id, ex.clusters[i].id);
            EXPECT_GT(r.outputs[i].n_tokens, 0) << to_string(c) << " " << r.outputs[i].cluster_id;
            EXPECT_LE(r.outputs[i].n_tokens, 12);
            EXPECT_GT(r.outputs[i].timing.ttft_ms, 0);
        }
        EXPECT_GT(r.kv_peak.bytes, 0u);
        EXPECT_GT(r.total_ms, 0);
        results[c] = r;
    }
    // Isolated topic outputs are generated from their own turns only: shorter contexts.
    const auto& seq = results[Condition::sequential];
    const auto& sem = results[Condition::semantic];
    for (size_t i = 0; i < ex.topics().size(); ++i) {
        EXPECT_LT(sem.outputs[i].n_context_tokens, seq.outputs[i].n_context_tokens);
    }
    // Separate contexts: one llama context per cluster; the others share one.
    EXPECT_EQ(results[Condition::separate_contexts].n_sessions,
              static_cast<int32_t>(ex.clusters.size()));
    EXPECT_EQ(sem.n_sessions, 1);
    EXPECT_GT(results[Condition::separate_contexts].separate_instances_bytes(),
              sem.separate_instances_bytes());
    // The shared context is prefilled once, not once per output: far fewer tokens computed than
    // the outputs' contexts add up to.
    int64_t contexts = 0;
    for (const auto& o : seq.outputs) contexts += o.n_context_tokens;
    EXPECT_LT(seq.n_prefill_tokens, contexts * 2 / 3);
}

INSTANTIATE_TEST_SUITE_P(Shipped, ExperimentTest,
                         ::testing::Values("dev/edu-02.json", "dev/edu-03.json"));

TEST(Experiment, NaiveFeedsTheSameTokensAndComputesMore) {
    const auto model = test::gemma();
    const Example ex = load("dev/edu-02.json");
    int n_outputs = 0, n_identical = 0;
    for (Condition c : {Condition::sequential, Condition::semantic}) {
        const Plan plan = make_plan(ex, c);
        const ConditionResult batched = run_condition(model, ex, plan, small(false));
        const ConditionResult naive = run_condition(model, ex, plan, small(true));
        ASSERT_EQ(batched.outputs.size(), naive.outputs.size());
        for (size_t i = 0; i < batched.outputs.size(); ++i) {
            const bool synth = batched.outputs[i].kind == ClusterKind::synthesis;
            if (!synth || batched.outputs[i].text == naive.outputs[i].text) {
                // Same prompt tokens (a synthesis prompt holds earlier outputs, so it matches
                // whenever those did).
                EXPECT_EQ(batched.outputs[i].n_context_tokens, naive.outputs[i].n_context_tokens)
                    << to_string(c) << " " << batched.outputs[i].cluster_id;
            }
            ++n_outputs;
            n_identical += batched.outputs[i].text == naive.outputs[i].text;
        }
        EXPECT_GT(naive.n_prefill_tokens, batched.n_prefill_tokens) << to_string(c);
    }
    std::printf("naive vs batched: %d of %d outputs identical under greedy decoding\n", n_identical,
                n_outputs);
    RecordProperty("identical_outputs",
                   std::to_string(n_identical) + "/" + std::to_string(n_outputs));
}

}  // namespace
}  // namespace rdic
