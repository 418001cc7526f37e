// The experiment end to end on the real 270M model: every condition on shipped examples,
// batched against naive execution, KV accounting per condition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "model_fixture.h"
#include "rdic/error.h"
#include "rdic/isolation/backend.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/prompt.h"

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
    o.answer_max_tokens = 6;
    o.naive = naive;
    return o;
}

// Fact questions (dataset v2): every condition answers every question, in a session of their
// own, so the outputs and their KV and prefill records are exactly what they are without them;
// naive execution asks the same questions in the same contexts and gets the same greedy replies.
TEST(Experiment, QuestionsAnsweredWithoutChangingTheOutputs) {
    const auto model = test::smollm();  // instruction-tuned, ChatML
    const Example ex = load("test/edu-08.json");
    ASSERT_GE(ex.questions.size(), 9u);
    const Plan seq_plan = make_plan(ex, Condition::sequential);
    const Plan sem_plan = make_plan(ex, Condition::semantic);
    const ConditionResult seq = run_condition(model, ex, seq_plan, small());
    const ConditionResult sem = run_condition(model, ex, sem_plan, small());
    const ConditionResult without = run_condition(
        model, ex, make_plan(ex, Condition::sequential, {.questions = false}), small());
    for (const ConditionResult* r : {&seq, &sem}) {
        ASSERT_EQ(r->answers.size(), ex.questions.size()) << to_string(r->condition);
        EXPECT_GT(r->questions_ms, 0);
        for (size_t i = 0; i < ex.questions.size(); ++i) {
            EXPECT_EQ(r->answers[i].question_id, ex.questions[i].id);
            EXPECT_GT(r->answers[i].n_tokens, 0);
            EXPECT_LE(r->answers[i].n_tokens, 6);
        }
    }
    EXPECT_TRUE(without.answers.empty());
    EXPECT_EQ(without.questions_ms, 0);
    ASSERT_EQ(seq.outputs.size(), without.outputs.size());
    for (size_t i = 0; i < seq.outputs.size(); ++i) {
        EXPECT_EQ(seq.outputs[i].text, without.outputs[i].text);
    }
    EXPECT_EQ(seq.kv_peak.cells_full, without.kv_peak.cells_full);
    EXPECT_EQ(seq.n_prefill_tokens, without.n_prefill_tokens);
    // A topic question is asked after its topic's context: the whole conversation for the
    // shared baseline, the topic's own turns under isolation.
    for (size_t i = 0; i < ex.questions.size(); ++i) {
        if (ex.questions[i].kind != QuestionKind::topic) continue;
        EXPECT_LT(sem.answers[i].n_context_tokens, seq.answers[i].n_context_tokens)
            << ex.questions[i].id;
    }
    // Naive execution asks in the same contexts: the same greedy replies (cross questions follow
    // the outputs as messages, which batch shapes may round, so only topic questions).
    const ConditionResult naive = run_condition(model, ex, sem_plan, small(true));
    ASSERT_EQ(naive.answers.size(), sem.answers.size());
    for (size_t i = 0; i < sem.answers.size(); ++i) {
        if (ex.questions[i].kind != QuestionKind::topic) continue;
        EXPECT_EQ(naive.answers[i].text, sem.answers[i].text) << ex.questions[i].id;
        EXPECT_EQ(naive.answers[i].n_context_tokens, sem.answers[i].n_context_tokens);
    }
    // The no-conversation control: no outputs, every question from the template head and the
    // question alone (no context block, no messages), greedy, with the same answer budget.
    const ConditionResult none =
        run_condition(model, ex, make_plan(ex, Condition::no_conversation), small());
    EXPECT_TRUE(none.outputs.empty());
    EXPECT_FALSE(none.kv_measured);  // no outputs: no output KV, recorded absent
    ASSERT_EQ(none.answers.size(), ex.questions.size());
    const PromptBuilder prompts(*model, small().system_prompt);
    const Plan none_plan = make_plan(ex, Condition::no_conversation);
    for (size_t i = 0; i < ex.questions.size(); ++i) {
        EXPECT_EQ(none.answers[i].question_id, ex.questions[i].id);
        EXPECT_GT(none.answers[i].n_tokens, 0);
        EXPECT_LE(none.answers[i].n_tokens, 6);
        // (A reply ended by a stop string keeps that string's last token out of the KV.)
        const size_t expected = prompts.head().size() +
                                prompts.request("", none_plan.questions[i].request).size() -
                                (none.answers[i].stop_reason == StopReason::stop_string ? 1 : 0);
        EXPECT_EQ(static_cast<size_t>(none.answers[i].n_context_tokens), expected)
            << ex.questions[i].id;
        EXPECT_LT(none.answers[i].n_context_tokens, sem.answers[i].n_context_tokens);
    }
    // A control has no outputs to run together with other plans.
    const std::vector<Plan> with_control = {sem_plan, none_plan};
    EXPECT_THROW(run_conditions_together(model, ex, with_control, small()), Error);
}

class ExperimentTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExperimentTest, EveryConditionProducesEveryOutput) {
    const auto model = test::gemma();
    const Example ex = load(GetParam());
    std::map<Condition, ConditionResult> results;
    for (Condition c : kAllConditions) {
        if (is_control(c)) continue;  // no outputs (QuestionsAnsweredWithoutChangingTheOutputs)
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

TEST(Experiment, KvLayoutFollowsWhatTheOutputsShare) {
    // semantic shares no context between outputs: one KV stream each by default; sequential's
    // outputs share the whole context: one pool, the context held once.
    const auto model = test::gemma();
    const Example ex = load("dev/edu-02.json");
    ExecutorOptions o = small();
    o.ignore_eog = true;
    const ConditionResult sem = run_condition(model, ex, make_plan(ex, Condition::semantic), o);
    const ConditionResult seq = run_condition(model, ex, make_plan(ex, Condition::sequential), o);
    EXPECT_EQ(sem.kv_layout, KvLayout::per_sequence);
    EXPECT_EQ(seq.kv_layout, KvLayout::unified);

    o.kv_layout = KvLayout::unified;
    const ConditionResult sem_unified =
        run_condition(model, ex, make_plan(ex, Condition::semantic), o);
    EXPECT_EQ(sem_unified.kv_layout, KvLayout::unified);
    ASSERT_EQ(sem.outputs.size(), sem_unified.outputs.size());
    for (size_t i = 0; i < sem.outputs.size(); ++i) {
        if (sem.outputs[i].kind == ClusterKind::topic) {
            EXPECT_EQ(sem.outputs[i].n_context_tokens, sem_unified.outputs[i].n_context_tokens);
        }
    }
    EXPECT_EQ(sem.n_prefill_tokens, sem_unified.n_prefill_tokens)
        << "a fork into its own stream is a copy, not a recomputation";
    EXPECT_EQ(sem.n_decode_calls, sem_unified.n_decode_calls);
    // The template head is the only thing semantic's sequences share; copied per stream it adds
    // a few cells per sequence, no more.
    EXPECT_LE(sem.kv_peak.cells_full, sem_unified.kv_peak.cells_full + 4 * 32);

    o.kv_layout = KvLayout::per_sequence;
    const ConditionResult seq_streams =
        run_condition(model, ex, make_plan(ex, Condition::sequential), o);
    EXPECT_GT(seq_streams.kv_peak.cells_full, seq.kv_peak.cells_full)
        << "per_sequence copies the shared context into every output's stream";
}

TEST(Experiment, ConditionsTogetherFeedTheSameTokensInFewerSteps) {
    const auto model = test::gemma();
    const Example ex = load("dev/edu-02.json");
    ExecutorOptions o = small();
    o.ignore_eog = true;  // every output max_tokens long: step counts are exact
    const std::vector<Plan> plans = {make_plan(ex, Condition::sequential),
                                     make_plan(ex, Condition::semantic)};
    const auto together = run_conditions_together(model, ex, plans, o);
    ASSERT_EQ(together.size(), 2u);
    uint64_t kv_peak_alone = 0;
    for (size_t p = 0; p < plans.size(); ++p) {
        SCOPED_TRACE(std::string(to_string(plans[p].condition)));
        const ConditionResult alone = run_condition(model, ex, plans[p], o);
        kv_peak_alone = std::max(kv_peak_alone, alone.kv_peak.bytes);
        const ConditionResult& t = together[p];
        EXPECT_EQ(t.condition, plans[p].condition);
        ASSERT_EQ(t.outputs.size(), alone.outputs.size());
        for (size_t i = 0; i < t.outputs.size(); ++i) {
            EXPECT_EQ(t.outputs[i].cluster_id, alone.outputs[i].cluster_id);
            EXPECT_EQ(t.outputs[i].n_tokens, 12);
            if (t.outputs[i].kind == ClusterKind::topic) {
                // Same prompt (a synthesis prompt holds earlier outputs, which batch-shape
                // rounding may flip; its length is not compared).
                EXPECT_EQ(t.outputs[i].n_context_tokens, alone.outputs[i].n_context_tokens);
            }
        }
        // One topic round and one synthesis round for both plans: the decode calls of one plan.
        EXPECT_EQ(t.n_decode_calls, alone.n_decode_calls);
        // Prefill tokens are the plan's own (the head and its own contexts and prompts).
        EXPECT_EQ(t.n_prefill_tokens, alone.n_prefill_tokens);
        EXPECT_TRUE(alone.together_with.empty());
        EXPECT_EQ(t.together_with, std::vector<Condition>{plans[1 - p].condition});
        EXPECT_EQ(t.total_ms, together[0].total_ms);
    }
    // Both plans live in one session: its peak holds both conditions' sequences.
    EXPECT_GT(together[0].kv_peak.bytes, kv_peak_alone);
    ExecutorOptions naive = o;
    naive.naive = true;
    EXPECT_THROW(run_conditions_together(model, ex, plans, naive), Error);
    const std::vector<Plan> separate = {make_plan(ex, Condition::separate_contexts)};
    EXPECT_THROW(run_conditions_together(model, ex, separate, o), Error);

    // Whether they fit one session is decided before anything decodes: by default they do; under
    // a KV limit smaller than the session they run one by one (Backend::run_together).
    EXPECT_EQ(check_together(model, ex, plans, o), "");
    ExecutorOptions tight = o;
    tight.together_max_kv_bytes = 1 << 20;
    EXPECT_NE(check_together(model, ex, plans, tight).find("limit for running conditions together"),
              std::string::npos);
    EXPECT_NE(check_together(model, ex, plans, naive), "");
    EXPECT_NE(check_together(model, ex, separate, o).find("needs contexts of its own"),
              std::string::npos);
    // A plan that breaks its limits alone is refused here too (it then runs alone, where its
    // own record says why), not thrown for the whole group.
    ExecutorOptions no_room = o;
    no_room.max_tokens = model->info().n_ctx_train;
    EXPECT_NE(check_together(model, ex, plans, no_room).find("tokens; the model's context is"),
              std::string::npos);
    EXPECT_THROW(run_conditions_together(model, ex, plans, no_room), Error);
    tight.kv_layout = KvLayout::unified;  // one layout: one group, which then falls back
    tight.max_tokens = 2;
    const PromptOptions no_questions{.questions = false};
    const std::vector<Plan> short_plans = {make_plan(ex, Condition::sequential, no_questions),
                                           make_plan(ex, Condition::semantic, no_questions)};
    std::vector<std::string> notes;
    const auto one_by_one = make_in_process_backend(model, tight)
                                ->run_together(ex, short_plans, [&](const std::string& line) {
                                    notes.push_back(line);
                                });
    ASSERT_EQ(one_by_one.size(), 2u);
    EXPECT_TRUE(one_by_one[0].together_with.empty());
    ASSERT_EQ(notes.size(), 1u) << "one group (both plans unified) fell back";
    EXPECT_NE(notes[0].find("edu-02: sequential,semantic run one by one"), std::string::npos)
        << notes[0];
}

}  // namespace
}  // namespace rdic
