// `rdic report`: what isolation changed, with honest statistics, from one or more results
// directories (several directories = the same experiment under several seeds).
//
//   rdic::Report r = rdic::build_report({"results/seed1", "results/seed2"}, {});
//   std::cout << rdic::render_markdown(r);      // also render_html / render_csv / render_json
//
// Per output, the metrics of metrics.jsonl (written by `rdic eval`) and, per (example,
// condition), resources from results.jsonl become tidy rows (run, example, condition, output,
// metric, value). A metric's value for one example is the mean over that example's outputs of
// the metric's kind (topic outputs or synthesis outputs); with several runs, the mean over runs,
// and the spread (best minus worst) is reported too. The reference condition (semantic) is then
// compared with every other condition, paired by example: mean difference with a seeded 95%
// bootstrap CI, Wilcoxon signed-rank p, paired t p, Cohen's d_z, and Holm's adjustment over the
// family of comparisons of that metric. Synthesis quality gets a non-inferiority test with a
// stated margin. docs/evaluation.md explains every number.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rdic/evaluation/statistics.h"

namespace rdic {

// A judge metric is uninformative when one score covers at least this share of outputs.
inline constexpr double kDegenerateJudgeShare = 0.9;
// A condition is flagged when its topic outputs are on average at least this much prompt copy.
inline constexpr double kCopyingShare = 0.5;

struct MetricSpec {
    std::string id;     // "topic.foreign_per_100_words", "synthesis.chrf", "example.kv_peak_mib"
    std::string label;  // for tables and charts
    std::string group;  // contamination, similarity, judge, length, resources
    bool lower_is_better = false;
    int decimals = 2;
};

// Every metric a report can hold, in display order: the labelled rows of metric_catalog().
const std::vector<MetricSpec>& report_metrics();

struct TidyRow {
    std::string run;                                   // results directory name
    std::string example_id, condition, cluster, kind;  // cluster/kind "" for example metrics
    std::string metric;
    double value = 0;
};

struct ConditionSummary {
    std::string metric, condition;
    int64_t n = 0;  // examples
    double mean = kUndefinedStat;
    BootstrapInterval ci;                 // of the mean over examples
    double mean_spread = kUndefinedStat;  // mean over examples of (max - min) over runs
    double max_spread = kUndefinedStat;
};

struct Comparison {
    std::string metric, condition, baseline;  // condition = the reference (semantic)
    PairedComparison stats;
    double holm_wilcoxon = kUndefinedStat;  // Holm-adjusted within the metric's family
    double holm_t = kUndefinedStat;
};

struct NonInferiorityResult {
    std::string metric, condition, baseline;
    NonInferiority test;
};

struct RunInfo {
    std::string dir, name, model, model_sha256_prefix, execution;
    double temperature = 0;
    uint64_t seed = 0;
    int32_t max_tokens = 0;
    int64_t pairs_ok = 0, pairs_failed = 0, metric_records = 0;
    std::string clustering = "labels";  // `rdic run --clusters`
    double mean_ari = kUndefinedStat;   // mean over examples of the clustering's ARI vs the labels
};

struct ReportOptions {
    std::string reference = "semantic";  // the condition compared against every other
    // A reference that is not a condition of the runs is an error (a user's --reference);
    // otherwise the report simply has no comparisons.
    bool require_reference = false;
    // Several directories whose model, settings (other than the seed) or known device differ
    // (setting_differences): refused unless set, and then reported with a note saying so.
    bool allow_mixed = false;
    uint64_t seed = kDefaultBootstrapSeed;
    int32_t n_resamples = kDefaultBootstrapResamples;
    double alpha = 0.05;
    // Non-inferiority margins for synthesis quality (absolute, in the metric's units).
    std::map<std::string, double> ni_margins = {{"synthesis.chrf", 2.0},
                                                {"synthesis.judge_integration", 0.5},
                                                {"synthesis.embed_cosine", 0.02}};
};

struct Report {
    ReportOptions options;
    std::vector<RunInfo> runs;
    std::vector<std::string> conditions;  // in the runs' order
    std::vector<TidyRow> rows;
    std::vector<ConditionSummary> summaries;
    std::vector<Comparison> comparisons;
    std::vector<NonInferiorityResult> non_inferiority;
    std::map<std::string, std::vector<std::string>> provenance;  // judge models, signatures...
    std::map<std::string, std::string> uninformative;            // judge metric -> why (no verdict)
    // (metric, condition) that a run could not measure (a remote engine's KV): shown "n/a".
    std::set<std::pair<std::string, std::string>> not_measured;
    std::vector<std::string> notes;  // shown above every table
    std::string generated_at;

    const ConditionSummary* summary(const std::string& metric, const std::string& cond) const;
    const Comparison* comparison(const std::string& metric, const std::string& baseline) const;
};

// Reads each directory through rdic/records: throws file_not_found when a directory has no
// config.json or results.jsonl, corrupt_file for a bad record (file, line, JSON pointer, reason),
// invalid_argument when results.jsonl is empty, when the runs differ in model, settings other
// than the seed or device (unless options.allow_mixed), or when options.require_reference and
// options.reference is not one of their conditions. Missing examples are not an error: pairs use
// the examples present in both.
Report build_report(const std::vector<std::filesystem::path>& dirs, const ReportOptions& options);

std::string render_json(const Report& report);
// The main table alone (conditions x key metrics, means with 95% CIs), as Markdown.
std::string render_main_table(const Report& report);
std::string render_csv(
    const Report& report);  // tidy: one row per run/example/condition/output/metric
std::string render_markdown(const Report& report);
std::string render_html(const Report& report);  // self-contained: inline CSS and SVG, no scripts

}  // namespace rdic
