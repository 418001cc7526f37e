// Reports from a hand-made results directory (tests/data/report_run, values chosen so the
// answers are known): per-condition means, paired comparisons with their exact Wilcoxon p, Holm,
// non-inferiority, the seed spread, and the four renderings.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rdic/error.h"
#include "rdic/reporting/report.h"

namespace rdic {
namespace {

const std::filesystem::path kRun = std::filesystem::path(RDIC_TEST_DATA_DIR) / "report_run";

Report fixture_report() {
    return build_report({kRun}, {});
}

TEST(Report, ConditionMeansOverExamplesAndTheirOutputs) {
    const Report r = fixture_report();
    EXPECT_EQ(r.conditions, (std::vector<std::string>{"sequential", "prompted", "semantic"}));
    ASSERT_EQ(r.runs.size(), 1u);
    EXPECT_EQ(r.runs[0].pairs_ok, 17);
    EXPECT_EQ(r.runs[0].pairs_failed, 1);
    EXPECT_EQ(r.runs[0].clustering, "labels");
    EXPECT_TRUE(std::isnan(r.runs[0].mean_ari));  // the fixture records no clustering

    const auto* seq = r.summary("topic.foreign_per_100_words", "sequential");
    ASSERT_NE(seq, nullptr);
    EXPECT_EQ(seq->n, 6);
    EXPECT_DOUBLE_EQ(seq->mean, 3.5);  // example e has e + 1 in both topic outputs
    EXPECT_LE(seq->ci.lower, 3.5);
    EXPECT_GE(seq->ci.upper, 3.5);
    const auto* prompted = r.summary("topic.foreign_per_100_words", "prompted");
    ASSERT_NE(prompted, nullptr);
    EXPECT_EQ(prompted->n, 5);  // its sixth example failed
    EXPECT_DOUBLE_EQ(prompted->mean, 1.0);
    // One of two topic outputs leaks: 0.5 leaks per output, half the outputs leak.
    EXPECT_DOUBLE_EQ(r.summary("topic.leaked_canaries", "sequential")->mean, 0.5);
    EXPECT_DOUBLE_EQ(r.summary("topic.leaking_output", "sequential")->mean, 0.5);
    EXPECT_DOUBLE_EQ(r.summary("topic.leaked_canaries", "semantic")->mean, 0.0);
    EXPECT_DOUBLE_EQ(r.summary("synthesis.term_coverage", "semantic")->mean, 0.75);
    EXPECT_DOUBLE_EQ(r.summary("synthesis.canary_coverage", "semantic")->mean, 0.5);
    EXPECT_DOUBLE_EQ(r.summary("topic.hit_token_limit", "semantic")->mean, 0.5);
    EXPECT_DOUBLE_EQ(r.summary("example.kv_peak_mib", "semantic")->mean, 8.0);
    EXPECT_DOUBLE_EQ(r.summary("example.total_s", "sequential")->mean, 1.25);
    EXPECT_DOUBLE_EQ(r.summary("topic.judge_focus", "semantic")->mean, 5.0);
    EXPECT_EQ(r.summary("topic.embed_cosine", "semantic"), nullptr);  // no embedding records
}

TEST(Report, SemanticAgainstEachBaselinePairedByExample) {
    const Report r = fixture_report();
    const Comparison* c = r.comparison("topic.foreign_per_100_words", "sequential");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->condition, "semantic");
    EXPECT_EQ(c->stats.n, 6);
    EXPECT_DOUBLE_EQ(c->stats.mean_difference, -3.5);
    // Six distinct negative differences: the exact two-sided p is 2 / 2^6.
    EXPECT_DOUBLE_EQ(c->stats.wilcoxon.p_value, 2.0 / 64.0);
    EXPECT_LT(c->stats.bootstrap.upper, 0);
    EXPECT_LT(c->stats.t_test.p_value, 0.01);
    // Holm over the two comparisons of this metric.
    const Comparison* p = r.comparison("topic.foreign_per_100_words", "prompted");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->stats.n, 5);  // paired only where both conditions have the example
    const auto adjusted =
        holm(std::vector<double>{p->stats.wilcoxon.p_value, c->stats.wilcoxon.p_value});
    EXPECT_DOUBLE_EQ(p->holm_wilcoxon, adjusted[0]);
    EXPECT_DOUBLE_EQ(c->holm_wilcoxon, adjusted[1]);
    EXPECT_GE(c->holm_wilcoxon, c->stats.wilcoxon.p_value);

    // chrF is exactly one point higher for semantic in every example: CI [1, 1], d_z undefined.
    const Comparison* chrf = r.comparison("topic.chrf", "sequential");
    ASSERT_NE(chrf, nullptr);
    EXPECT_DOUBLE_EQ(chrf->stats.mean_difference, 1.0);
    EXPECT_DOUBLE_EQ(chrf->stats.bootstrap.lower, 1.0);
    EXPECT_DOUBLE_EQ(chrf->stats.bootstrap.upper, 1.0);
    EXPECT_FALSE(chrf->stats.cohens_dz.defined());
    EXPECT_EQ(r.comparison("topic.chrf", "semantic"), nullptr);  // never against itself
}

TEST(Report, SynthesisNonInferiorityWithTheStatedMargin) {
    const Report r = fixture_report();
    bool found = false;
    for (const NonInferiorityResult& n : r.non_inferiority) {
        if (n.metric == "synthesis.chrf" && n.baseline == "sequential") {
            found = true;
            EXPECT_DOUBLE_EQ(n.test.margin, 2.0);
            EXPECT_EQ(n.test.verdict, NonInferiorityVerdict::non_inferior);
        }
    }
    EXPECT_TRUE(found);

    // The judge gave every synthesis the same integration score: it measured nothing, so there
    // is no verdict (a t test would call a constant difference of 0 infinitely significant).
    ReportOptions equal;
    equal.ni_margins = {{"synthesis.judge_integration", 0.5}};
    for (const NonInferiorityResult& n : build_report({kRun}, equal).non_inferiority) {
        EXPECT_EQ(n.metric, "synthesis.judge_integration");
        EXPECT_EQ(n.test.verdict, NonInferiorityVerdict::undefined) << n.baseline;
        EXPECT_EQ(n.test.undefined_reason.rfind("uninformative judge: 100% of", 0), 0u)
            << n.test.undefined_reason;
    }
    // Sequential as the reference is one chrF point worse than semantic: not within 0.5.
    ReportOptions worse;
    worse.reference = "sequential";
    worse.ni_margins = {{"synthesis.chrf", 0.5}};
    bool checked = false;
    for (const NonInferiorityResult& n : build_report({kRun}, worse).non_inferiority) {
        if (n.baseline != "semantic") continue;
        checked = true;
        EXPECT_DOUBLE_EQ(n.test.mean_difference, -1.0);
        EXPECT_EQ(n.test.verdict, NonInferiorityVerdict::not_shown);
    }
    EXPECT_TRUE(checked);
}

TEST(Report, SeveralSeedsAverageAndReportTheSpread) {
    // A second "seed" in which semantic's topic chrF is 4 points higher everywhere.
    const auto tmp = std::filesystem::temp_directory_path() / "rdic-report-seed2";
    std::filesystem::remove_all(tmp);
    std::filesystem::create_directories(tmp);
    std::filesystem::copy_file(kRun / "results.jsonl", tmp / "results.jsonl");
    std::filesystem::copy_file(kRun / "config.json", tmp / "config.json");
    std::ifstream in(kRun / "metrics.jsonl");
    std::ofstream out(tmp / "metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        if (j["metric_set"] == "similarity/v1" && j["condition"] == "semantic" &&
            j["kind"] == "topic") {
            j["chrf"] = j["chrf"].get<double>() + 4.0;
        }
        out << j.dump() << "\n";
    }
    out.close();
    const Report r = build_report({kRun, tmp}, {});
    ASSERT_EQ(r.runs.size(), 2u);
    const auto* sem = r.summary("topic.chrf", "semantic");
    const Report single = fixture_report();
    const auto* one = single.summary("topic.chrf", "semantic");
    EXPECT_DOUBLE_EQ(sem->mean, one->mean + 2.0);  // mean over the two seeds
    EXPECT_DOUBLE_EQ(sem->mean_spread, 4.0);
    EXPECT_DOUBLE_EQ(sem->max_spread, 4.0);
    EXPECT_DOUBLE_EQ(r.summary("topic.chrf", "sequential")->mean_spread, 0.0);
    std::filesystem::remove_all(tmp);
}

TEST(Report, RenderingsCarryTheSameNumbers) {
    const Report r = fixture_report();
    const std::string csv = render_csv(r);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(r.rows.size()) + 1);
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "run,example_id,condition,cluster,kind,metric,value");
    EXPECT_NE(csv.find("report_run,ex-0,sequential,a,topic,topic.foreign_per_100_words,1\n"),
              std::string::npos);

    const auto j = nlohmann::json::parse(render_json(r));
    EXPECT_EQ(j["schema"], "rdic.report/v1");
    bool seen = false;
    for (const auto& c : j["comparisons"]) {
        if (c["metric"] == "topic.foreign_per_100_words" && c["baseline"] == "sequential") {
            seen = true;
            EXPECT_DOUBLE_EQ(c["mean_difference"].get<double>(), -3.5);
            EXPECT_DOUBLE_EQ(c["wilcoxon_p"].get<double>(), 0.03125);
        }
        if (c["metric"] == "topic.chrf") {
            EXPECT_TRUE(c["cohens_dz"].is_null());  // NaN -> null
        }
    }
    EXPECT_TRUE(seen);
    EXPECT_EQ(j["provenance"]["judge model"][0],
              "judge.gguf (sha256 fedcba9876543210...), prompt judge/v1, presentation seed 1");

    const std::string md = render_markdown(r);
    EXPECT_NE(md.find("| sequential | 3.50 ["), std::string::npos);
    EXPECT_NE(md.find("## Non-inferiority"), std::string::npos);
    EXPECT_NE(md.find("BLEU signature: nrefs:1|case:mixed|eff:yes|tok:13a"), std::string::npos);

    const std::string html = render_html(r);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no fetches
    EXPECT_NE(html.find("data-metric=\"topic.foreign_per_100_words\""), std::string::npos);
    EXPECT_NE(html.find("data-metric=\"example.kv_peak_mib\""), std::string::npos);
    EXPECT_EQ(html.find("data-metric=\"topic.embed_cosine\""), std::string::npos);  // no data
}

TEST(Report, MissingResultsIsAClearError) {
    try {
        build_report({kRun / "nope"}, {});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::file_not_found);
        EXPECT_NE(std::string(e.what()).find("nope/results.jsonl"), std::string::npos);
    }
}

}  // namespace
}  // namespace rdic
