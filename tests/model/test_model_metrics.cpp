// The model-based metrics: the judge always returns parseable in-range scores for every criterion
// that applies, is reproducible, and never sees the condition; embeddings rank a same-topic text
// above an unrelated one.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "model_fixture.h"
#include "rdic/error.h"
#include "rdic/evaluation/model_metrics.h"
#include "rdic/isolation/plan.h"

namespace rdic {
namespace {

std::vector<JudgeItem> judge_items() {
    std::vector<JudgeItem> items;
    items.push_back({.task = "Summarise the patient's medication schedule.",
                     .topic = "Medication",
                     .other_topics = {"Billing", "Diet"},
                     .output = "Take 5 mg of amlodipine every morning and metformin with meals."});
    items.push_back({.task = "Summarise the patient's medication schedule.",
                     .topic = "Medication",
                     .other_topics = {"Billing", "Diet"},
                     .output = "The invoice of $1,200 is due Friday; eat more vegetables."});
    items.push_back({.task = "Write one plan that covers medication and billing.",
                     .inputs = {"Medication", "Billing"},
                     .synthesis = true,
                     .output = "Morning amlodipine; pay the $1,200 invoice by Friday."});
    items.push_back({.task = "Summarise the patient's medication schedule.",
                     .topic = "Medication",
                     .output = ""});  // an empty output must still be graded
    return items;
}

TEST(Judge, EveryReplyParsesWithScoresInRangeForItsCriteria) {
    Judge judge(test::gemma(), {.batch = 3});  // 4 items: a full batch and a partial one
    const auto items = judge_items();
    const auto scores = judge.score(items);
    ASSERT_EQ(scores.size(), items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        SCOPED_TRACE(scores[i].raw);
        EXPECT_GE(scores[i].relevance, 1);
        EXPECT_LE(scores[i].relevance, 5);
        EXPECT_GE(scores[i].coherence, 1);
        EXPECT_LE(scores[i].coherence, 5);
        if (items[i].synthesis) {
            EXPECT_EQ(scores[i].focus, 0);
            EXPECT_GE(scores[i].integration, 1);
            EXPECT_LE(scores[i].integration, 5);
        } else {
            EXPECT_GE(scores[i].focus, 1);
            EXPECT_LE(scores[i].focus, 5);
            EXPECT_EQ(scores[i].integration, 0);
        }
        EXPECT_GT(scores[i].n_prompt_tokens, 50);
    }
}

TEST(Judge, BothDecodersReplyInTheGrammarAndTheExpectationMatchesTheChoice) {
    const auto items = judge_items();
    JudgeOptions gbnf;
    gbnf.decoder = JudgeDecoder::gbnf;
    const auto g = Judge(test::gemma(), gbnf).score(std::span(items).subspan(0, 1));
    const auto t = Judge(test::gemma()).score(std::span(items).subspan(0, 1));
    const std::regex reply(R"(\{"relevance": [1-5], "focus": [1-5], "coherence": [1-5]\})");
    EXPECT_TRUE(std::regex_match(g[0].raw, reply)) << g[0].raw;
    EXPECT_TRUE(std::regex_match(t[0].raw, reply)) << t[0].raw;
    // The expectation over the five digits lies in [1, 5], within 2 of the chosen digit.
    for (double e : {t[0].expected_relevance, t[0].expected_focus, t[0].expected_coherence}) {
        EXPECT_GE(e, 1.0);
        EXPECT_LE(e, 5.0);
    }
    EXPECT_LE(std::abs(t[0].expected_relevance - t[0].relevance), 2.0);
    EXPECT_EQ(g[0].expected_relevance, 0.0);  // the gbnf decoder has no distribution
}

TEST(Judge, SameItemsSameBatchesSameScores) {
    const auto items = judge_items();
    Judge a(test::gemma(), {.batch = 2});
    Judge b(test::gemma(), {.batch = 2});
    const auto sa = a.score(items);
    const auto sb = b.score(items);
    for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(sa[i].raw, sb[i].raw);
}

TEST(Judge, PromptIsBlindToTheConditionAndCutsLongOutputs) {
    JudgeItem item = judge_items()[0];
    const std::string p = Judge::prompt(item);
    for (Condition c : kAllConditions) {
        EXPECT_EQ(p.find(std::string(to_string(c))), std::string::npos) << to_string(c);
    }
    EXPECT_NE(p.find(item.output), std::string::npos);
    EXPECT_NE(p.find("Billing; Diet"), std::string::npos);

    std::string long_text;
    for (int i = 0; i < 400; ++i) long_text += "The dose is adjusted weekly. ";
    item.output = long_text;
    Judge judge(test::gemma(), {.max_output_tokens = 64});
    const auto s = judge.score(std::span(&item, 1));
    EXPECT_TRUE(s[0].output_truncated);
    EXPECT_LT(s[0].n_prompt_tokens, 400);
}

TEST(Embedder, SameTopicIsCloserThanAnUnrelatedOne) {
    Embedder emb(test::gemma());
    const auto a =
        emb.embed("The patient takes 5 mg of amlodipine every morning for blood pressure.");
    const auto b =
        emb.embed("Her blood pressure medication is amlodipine, one tablet each morning.");
    const auto c =
        emb.embed("The container ship left Rotterdam with 1,200 pallets of steel coils.");
    EXPECT_NEAR(cosine(a, a), 1.0, 1e-6);
    EXPECT_GT(cosine(a, b), cosine(a, c));
    EXPECT_GT(cosine(a, b), cosine(b, c));
    EXPECT_FALSE(emb.embed("").empty());
    EXPECT_THROW(cosine(a, std::vector<float>(3)), Error);
}

TEST(Embedder, LongTextsAreCutNotRejected) {
    Embedder emb(test::gemma(), {.max_tokens = 32});
    std::string long_text;
    for (int i = 0; i < 50; ++i) long_text += "Shipments are consolidated at the hub. ";
    EXPECT_EQ(emb.embed(long_text).size(), emb.embed("short").size());
    EXPECT_EQ(emb.n_truncated(), 1);
}

}  // namespace
}  // namespace rdic
