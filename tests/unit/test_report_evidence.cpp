// Reports on evidence that can fail: question accuracy and lure rate from questions/v1 records,
// the copy control's pseudo-conditions (shown, never compared), the copy flag, and the rule that
// a degenerate judge is reported as uninformative and draws no verdict. Each run directory is
// written by the test with values chosen so the answers are known by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rdic/reporting/report.h"
#include "support/record_fixtures.h"

namespace rdic {
namespace {

using json = nlohmann::json;

class RunDir {
public:
    explicit RunDir(const std::string& name)
        : dir_(std::filesystem::temp_directory_path() / ("rdic-evidence-" + name)) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    ~RunDir() { std::filesystem::remove_all(dir_); }
    // with_outputs = false: an answers-only record, as the no-conversation control writes.
    void result(const std::string& ex, const std::string& cond, bool with_outputs = true) {
        if (!std::filesystem::exists(dir_ / "config.json")) {
            std::ofstream(dir_ / "config.json") << config_to_text(test::sample_config());
        }
        ResultRecord r = test::sample_result(ex, cond);
        if (!with_outputs) {
            r.outputs.clear();
            r.kv.reset();
        }
        test::append_line(dir_ / "results.jsonl", result_to_line(r));
    }
    void metric(json m) {
        m["naive"] = false;
        m["schema"] = kRecordSchemaVersion;
        test::append_line(dir_ / "metrics.jsonl", m.dump());
    }
    const std::filesystem::path& path() const { return dir_; }

private:
    std::filesystem::path dir_;
};

json question(const std::string& ex, const std::string& cond, const std::string& id,
              const std::string& kind, bool correct, bool lure, bool has_lure) {
    return {{"metric_set", "questions/v1"},
            {"example_id", ex},
            {"condition", cond},
            {"question", id},
            {"kind", kind},
            {"has_lure", has_lure},
            {"correct", correct},
            {"lure", lure},
            {"abstained", false}};
}

json topic_text(const std::string& ex, const std::string& cond, double copy, double chrf_like) {
    return {{"metric_set", "contamination/v1"},
            {"example_id", ex},
            {"condition", cond},
            {"cluster", "a"},
            {"kind", "topic"},
            {"n_words", 10},
            {"hit_token_limit", false},
            {"foreign_per_100_words", chrf_like},
            {"foreign_share", 0.0},
            {"leaked_canaries", json::array()},
            {"own_term_coverage", 1.0},
            {"prompt_copy_share", copy}};
}

TEST(ReportEvidence, QuestionAccuracyAndLureRatePerExample) {
    RunDir d("questions");
    for (const char* ex : {"e1", "e2"}) {
        for (const char* cond : {"sequential", "semantic"}) d.result(ex, cond);
    }
    // e1 sequential: 1 of 2 correct, the other answered with the lure; e2 sequential: 2 of 2.
    d.metric(question("e1", "sequential", "q1", "question", true, false, true));
    d.metric(question("e1", "sequential", "q2", "question", false, true, true));
    d.metric(question("e2", "sequential", "q1", "question", true, false, true));
    d.metric(question("e2", "sequential", "q2", "question", true, false, false));
    // semantic: everything correct; one cross question wrong in e1, right in e2.
    for (const char* ex : {"e1", "e2"}) {
        d.metric(question(ex, "semantic", "q1", "question", true, false, true));
        d.metric(question(ex, "semantic", "q2", "question", true, false, true));
    }
    d.metric(question("e1", "semantic", "x", "cross", false, false, false));
    d.metric(question("e2", "semantic", "x", "cross", true, false, false));
    const Report r = build_report({d.path()}, {});
    // Means of per-example means: sequential (0.5 + 1.0) / 2.
    EXPECT_DOUBLE_EQ(r.summary("question.correct", "sequential")->mean, 0.75);
    EXPECT_DOUBLE_EQ(r.summary("question.correct", "semantic")->mean, 1.0);
    // Lure rate only over questions that have a lure: e1 1/2, e2 0/1.
    EXPECT_DOUBLE_EQ(r.summary("question.lure", "sequential")->mean, 0.25);
    EXPECT_DOUBLE_EQ(r.summary("cross.correct", "semantic")->mean, 0.5);
    EXPECT_EQ(r.summary("cross.correct", "sequential"), nullptr);
    const Comparison* c = r.comparison("question.correct", "sequential");
    ASSERT_NE(c, nullptr);
    EXPECT_DOUBLE_EQ(c->stats.mean_difference, 0.25);
    EXPECT_NE(render_main_table(r).find("Question accuracy"), std::string::npos);
}

// The no-conversation control: answers only. Its accuracy and lure rate are rows marked as a
// control, after the conditions; output metrics are absent (not 0, not n/a); it is never a
// baseline of the comparisons.
TEST(ReportEvidence, TheNoConversationControlIsARowNeverABaseline) {
    RunDir d("no-conversation");
    for (const char* ex : {"e1", "e2"}) {
        d.result(ex, "no_conversation", /*with_outputs=*/false);  // written first
        d.result(ex, "sequential");
        d.result(ex, "semantic");
        d.metric(question(ex, "sequential", "q1", "question", true, false, true));
        d.metric(question(ex, "semantic", "q1", "question", true, false, true));
        d.metric(topic_text(ex, "sequential", 0.1, 2));
        d.metric(topic_text(ex, "semantic", 0.1, 0));
    }
    // The control: e1 guesses the lure, e2 guesses wrong; the cross question right once.
    d.metric(question("e1", "no_conversation", "q1", "question", false, true, true));
    d.metric(question("e2", "no_conversation", "q1", "question", false, false, true));
    d.metric(question("e1", "no_conversation", "x", "cross", true, false, false));
    d.metric(question("e2", "no_conversation", "x", "cross", false, false, false));
    const Report r = build_report({d.path()}, {});
    EXPECT_EQ(r.conditions,
              (std::vector<std::string>{"sequential", "semantic", "no_conversation"}));
    ASSERT_NE(r.summary("question.correct", "no_conversation"), nullptr);
    EXPECT_DOUBLE_EQ(r.summary("question.correct", "no_conversation")->mean, 0.0);
    EXPECT_EQ(r.summary("question.correct", "no_conversation")->n, 2);
    EXPECT_DOUBLE_EQ(r.summary("question.lure", "no_conversation")->mean, 0.5);
    EXPECT_DOUBLE_EQ(r.summary("cross.correct", "no_conversation")->mean, 0.5);
    for (const char* m : {"example.total_s", "example.kv_peak_mib", "example.ttft_s",
                          "example.prefill_tokens", "topic.foreign_per_100_words"}) {
        EXPECT_EQ(r.summary(m, "no_conversation"), nullptr) << m;
        EXPECT_FALSE(r.not_measured.count({m, "no_conversation"})) << m;
    }
    EXPECT_NE(r.comparison("question.correct", "sequential"), nullptr);
    for (const Comparison& c : r.comparisons) EXPECT_NE(c.baseline, "no_conversation");
    for (const auto& n : r.non_inferiority) EXPECT_NE(n.baseline, "no_conversation");
    const std::string table = render_main_table(r);
    EXPECT_NE(table.find("| no_conversation (control) | 0.000"), std::string::npos) << table;
    bool noted = false;
    for (const std::string& n : r.notes)
        noted = noted || n.find("no_conversation is a control") == 0;
    EXPECT_TRUE(noted);
    const std::string md = render_markdown(r);
    EXPECT_EQ(md.find(" nan"), std::string::npos) << md;  // no NaN from a division by 0 outputs
}

TEST(ReportEvidence, CopyControlsAreShownNeverComparedAndCopyingIsFlagged) {
    RunDir d("copy");
    for (const char* ex : {"e1", "e2"}) {
        d.result(ex, "sequential");
        d.result(ex, "semantic");
        d.metric(topic_text(ex, "sequential", 0.8, 4));  // a copying condition
        d.metric(topic_text(ex, "semantic", 0.1, 0));
        json own = topic_text(ex, "copy_own", 0, 0);
        own.erase("prompt_copy_share");  // the control has no prompt
        d.metric(own);
        d.metric(topic_text(ex, "copy_all", 0, 5));
    }
    const Report r = build_report({d.path()}, {});
    EXPECT_EQ(r.conditions,
              (std::vector<std::string>{"sequential", "semantic", "copy_own", "copy_all"}));
    EXPECT_DOUBLE_EQ(r.summary("topic.foreign_per_100_words", "copy_all")->mean, 5.0);
    for (const Comparison& c : r.comparisons) {
        EXPECT_NE(c.baseline, "copy_own");
        EXPECT_NE(c.baseline, "copy_all");
    }
    EXPECT_DOUBLE_EQ(r.summary("topic.copy_share", "sequential")->mean, 0.8);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("Condition sequential: 80%"), std::string::npos) << r.notes[0];
    EXPECT_NE(render_markdown(r).find("**Note.** Condition sequential"), std::string::npos);
}

json judged(const std::string& ex, const std::string& cond, int relevance) {
    return {{"metric_set", "judge/v1"},
            {"example_id", ex},
            {"condition", cond},
            {"cluster", "a"},
            {"kind", "topic"},
            {"relevance", relevance},
            {"coherence", relevance},
            {"judge_model", {{"file", "j.gguf"}, {"sha256_prefix", "00"}}},
            {"prompt_version", "judge/v1"},
            {"presentation_seed", 1}};
}

TEST(ReportEvidence, AJudgeGivingOneScoreToNinetyPercentIsUninformative) {
    RunDir d("judge-degenerate");
    // 20 scores, 18 of them 3 (90%), the other two differ by condition.
    for (int e = 0; e < 10; ++e) {
        const std::string ex = "e" + std::to_string(e);
        d.result(ex, "sequential");
        d.result(ex, "semantic");
        d.metric(judged(ex, "sequential", e == 0 ? 1 : 3));
        d.metric(judged(ex, "semantic", e == 0 ? 5 : 3));
    }
    const Report r = build_report({d.path()}, {});
    ASSERT_EQ(r.uninformative.count("topic.judge_relevance"), 1u);
    EXPECT_EQ(r.uninformative.at("topic.judge_relevance"), "90% of 20 scores are 3");
    ASSERT_FALSE(r.notes.empty());
    EXPECT_NE(r.notes[0].find("uninformative"), std::string::npos);
}

TEST(ReportEvidence, AJudgeThatSeparatesConditionsStaysInTheTable) {
    RunDir d("judge-informative");
    // 80% of scores are 3: below the rule's 90%, and the conditions' means differ.
    for (int e = 0; e < 10; ++e) {
        const std::string ex = "e" + std::to_string(e);
        d.result(ex, "sequential");
        d.result(ex, "semantic");
        d.metric(judged(ex, "sequential", e < 2 ? 1 : 3));
        d.metric(judged(ex, "semantic", e < 2 ? 5 : 3));
    }
    const Report r = build_report({d.path()}, {});
    EXPECT_TRUE(r.uninformative.empty());
    EXPECT_TRUE(r.notes.empty());
}

TEST(ReportEvidence, AJudgeWithEqualConditionMeansIsUninformative) {
    RunDir d("judge-flat");
    // Varied scores (no value above 50%), yet both conditions average exactly 3.
    const int scores[] = {1, 5, 2, 4, 3, 3, 1, 5, 2, 4};
    for (int e = 0; e < 10; ++e) {
        const std::string ex = "e" + std::to_string(e);
        d.result(ex, "sequential");
        d.result(ex, "semantic");
        d.metric(judged(ex, "sequential", scores[e]));
        d.metric(judged(ex, "semantic", scores[9 - e]));
    }
    const Report r = build_report({d.path()}, {});
    ASSERT_EQ(r.uninformative.count("topic.judge_relevance"), 1u);
    EXPECT_EQ(r.uninformative.at("topic.judge_relevance"), "every condition has the same mean (3)");
}

}  // namespace
}  // namespace rdic
