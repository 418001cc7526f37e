#include "rdic/reporting/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>

#include "rdic/build_info.h"
#include "rdic/clock.h"
#include "rdic/error.h"
#include "rdic/evaluation/copy_control.h"
#include "rdic/evaluation/similarity.h"
#include "rdic/isolation/plan.h"
#include "rdic/records/files.h"
#include "rdic/records/metric_catalog.h"
#include "rdic/records/metric_record.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"

namespace rdic {

namespace {

// The report's view of the one metric table (records/metric_catalog.h): rows with a label.
const std::vector<MetricSpec> kMetrics = [] {
    std::vector<MetricSpec> v;
    for (const MetricDef& m : metric_catalog()) {
        if (m.label[0] != '\0')
            v.push_back({m.id, m.label, m.group, m.lower_is_better, m.decimals});
    }
    return v;
}();

double mean_of(const std::map<std::string, double>& m) {
    if (m.empty()) return kUndefinedStat;
    double s = 0;
    for (const auto& [k, v] : m) s += v;
    return s / static_cast<double>(m.size());
}

// Rows from one results directory, read through rdic/records (a bad record throws).
ConfigRecord load_run(const std::filesystem::path& dir, Report& report,
                      std::set<std::string>& conds) {
    RunInfo info;
    info.dir = dir.string();
    info.name =
        dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
    const ResultsLog log = read_results(dir / "results.jsonl");
    if (log.records.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    printable_path(log.file) + ": no records (the run wrote nothing yet)");
    }
    const ConfigRecord config = read_config(dir / "config.json");
    const RunConfig& c = config.config;
    info.temperature = c.sampling.temperature;
    info.seed = c.sampling.seed;
    info.max_tokens = c.max_tokens;
    info.execution = c.backend != "in-process" ? "remote " + c.backend
                     : c.naive                 ? "naive"
                     : c.together              ? "batched, conditions together"
                                               : "batched";
    info.clustering = c.clusters;
    info.model = config.model.file;
    info.model_sha256_prefix = config.model.sha256_prefix;

    std::map<std::string, double> ari;  // example -> ARI of the clustering the run used
    auto add = [&](const std::string& ex, const std::string& cond, const std::string& cluster,
                   const std::string& kind, const std::string& metric, double v) {
        report.rows.push_back({info.name, ex, cond, cluster, kind, metric, v});
    };
    size_t n_together = 0;  // records that ran in a session shared with other conditions
    for (const ResultRecord* pr : current_records(log)) {
        const ResultRecord& r = *pr;
        if (r.naive != c.naive) continue;
        const std::string& ex = r.example_id;
        const std::string& cond = r.condition;
        if (!r.ok) {
            ++info.pairs_failed;
            continue;
        }
        ++info.pairs_ok;
        if (conds.insert(cond).second) report.conditions.push_back(cond);
        if (r.clustering) ari[ex] = r.clustering->ari;
        // A control without outputs (no_conversation) has answers only: no output KV, time or
        // TTFT to report (absent, not 0).
        if (r.outputs.empty()) continue;
        if (!r.together_with.empty()) {
            // The shared session's KV and times, not this condition's: not compared.
            ++n_together;
            for (const char* id : {"example.kv_peak_mib", "example.kv_peak_tokens",
                                   "example.total_s", "example.ttft_s"}) {
                report.not_measured.emplace(id, cond);
            }
            add(ex, cond, "", "", "example.prefill_tokens",
                static_cast<double>(r.timing.prefill_tokens));
            continue;
        }
        if (r.kv) {
            add(ex, cond, "", "", "example.kv_peak_mib",
                static_cast<double>(r.kv->peak_bytes) / (1024.0 * 1024.0));
            add(ex, cond, "", "", "example.kv_peak_tokens",
                static_cast<double>(r.kv->peak_cells_full));
        } else {  // a remote engine's KV is not visible: "n/a", never 0
            report.not_measured.emplace("example.kv_peak_mib", cond);
            report.not_measured.emplace("example.kv_peak_tokens", cond);
        }
        add(ex, cond, "", "", "example.total_s", r.timing.total_ms / 1000.0);
        add(ex, cond, "", "", "example.prefill_tokens",
            static_cast<double>(r.timing.prefill_tokens));
        double ttft = 0;
        for (const OutputRecord& o : r.outputs) ttft += o.ttft_ms;
        add(ex, cond, "", "", "example.ttft_s",
            ttft / static_cast<double>(r.outputs.size()) / 1000.0);
    }

    if (!ari.empty()) info.mean_ari = mean_of(ari);
    if (n_together > 0) {
        report.notes.push_back(
            info.name + ": " + std::to_string(n_together) +
            " pairs ran together with other conditions of their example in one session (`rdic "
            "run`'s default); their KV peak, time and TTFT are the shared session's, so they are "
            "left out (n/a) and only pairs that ran alone are compared; prefill tokens are each "
            "condition's own. `rdic run --separate-conditions` measures every condition alone.");
    }

    std::set<std::string> controls;
    std::vector<std::string> control_order;
    for (const MetricRecord& m : read_metrics(dir / "metrics.jsonl").records) {
        if (m.naive != c.naive) continue;
        ++info.metric_records;
        if (m.set != "questions/v1" && is_copy_control(m.condition) &&
            controls.insert(m.condition).second) {
            control_order.push_back(m.condition);
        }
        for (const auto& [id, v] : m.values) add(m.example_id, m.condition, m.item, m.kind, id, v);
        if (!m.provenance_key.empty()) report.provenance[m.provenance_key].push_back(m.provenance);
    }
    // The copy control's pseudo-conditions come after the real ones.
    for (const std::string& cc : control_order) {
        if (conds.insert(cc).second) report.conditions.push_back(cc);
    }
    report.runs.push_back(info);
    return config;
}

// A judge that gives (almost) every output one score, or every condition the same mean,
// measured nothing: its metrics are reported as uninformative and draw no verdict.
void flag_uninformative_judges(Report& report) {
    for (const MetricSpec& spec : kMetrics) {
        if (spec.group != "judge") continue;
        std::map<double, int64_t> counts;
        int64_t n = 0;
        for (const TidyRow& r : report.rows) {
            if (r.metric != spec.id || is_copy_control(r.condition)) continue;
            ++counts[r.value];
            ++n;
        }
        if (n == 0) continue;
        int64_t modal = 0;
        double modal_value = 0;
        for (const auto& [v, c] : counts) {
            if (c > modal) modal = c, modal_value = v;
        }
        const double share = static_cast<double>(modal) / static_cast<double>(n);
        std::set<double> means;
        for (const ConditionSummary& s : report.summaries) {
            if (s.metric == spec.id && !is_copy_control(s.condition)) means.insert(s.mean);
        }
        char why[200];
        if (share >= kDegenerateJudgeShare) {
            std::snprintf(why, sizeof why, "%.0f%% of %lld scores are %g", 100 * share,
                          static_cast<long long>(n), modal_value);
        } else if (means.size() == 1) {
            std::snprintf(why, sizeof why, "every condition has the same mean (%g)",
                          *means.begin());
        } else {
            continue;
        }
        report.uninformative[spec.id] = why;
    }
    if (!report.uninformative.empty()) {
        report.notes.push_back(
            "The LLM judge is uninformative on this run (" +
            std::to_string(report.uninformative.size()) +
            " judge metrics: one score for >= 90% of outputs, or no difference between "
            "conditions); its columns are shown as such and draw no verdict.");
    }
}

void flag_copying(Report& report) {
    for (const std::string& c : report.conditions) {
        const ConditionSummary* s = report.summary("topic.copy_share", c);
        if (s == nullptr || is_copy_control(c) || !(s->mean >= kCopyingShare)) continue;
        char note[200];
        std::snprintf(note, sizeof note,
                      "Condition %s: %.0f%% of its topic outputs' text is verbatim copy of its own "
                      "prompt (spans of >= 25 characters); read its scores against the copy "
                      "control rows.",
                      c.c_str(), 100 * s->mean);
        report.notes.push_back(note);
    }
}

void dedupe(std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

const std::vector<MetricSpec>& report_metrics() {
    return kMetrics;
}

const ConditionSummary* Report::summary(const std::string& metric, const std::string& cond) const {
    for (const ConditionSummary& s : summaries) {
        if (s.metric == metric && s.condition == cond) return &s;
    }
    return nullptr;
}

const Comparison* Report::comparison(const std::string& metric, const std::string& baseline) const {
    for (const Comparison& c : comparisons) {
        if (c.metric == metric && c.baseline == baseline) return &c;
    }
    return nullptr;
}

Report build_report(const std::vector<std::filesystem::path>& dirs, const ReportOptions& options) {
    if (dirs.empty()) throw Error(ErrorCode::invalid_argument, "report: no results directory");
    Report report;
    report.options = options;
    report.generated_at = iso8601_utc_now();
    std::set<std::string> conds;
    std::vector<ConfigRecord> configs;
    for (const auto& d : dirs) configs.push_back(load_run(d, report, conds));
    // Several directories are seeds of one experiment: anything but the seed differing is refused
    // unless asked for, and then said above every table. Each is compared with the first whose
    // device is known: an unknown one ("", an old config) claims no difference, so a CPU run and
    // a GPU run compared only with it would pass as seeds.
    size_t base = 0;
    while (base + 1 < configs.size() && configs[base].config.device.empty()) ++base;
    if (configs[base].config.device.empty()) base = 0;
    for (size_t i = 0; i < configs.size(); ++i) {
        if (i == base) continue;
        const auto diff = setting_differences(configs[base].config, configs[base].model,
                                              configs[i].config, configs[i].model,
                                              /*with_seed=*/false, /*with_conditions=*/false);
        if (diff.empty()) continue;
        std::string list;
        for (const std::string& d : diff) list += (list.empty() ? "" : "; ") + d;
        const std::string what = report.runs[base].name + " and " + report.runs[i].name +
                                 " differ in more than the seed (" + list + ")";
        if (!options.allow_mixed) {
            throw Error(ErrorCode::invalid_argument,
                        "report: " + what +
                            "; they are not seeds of one experiment (--allow-mixed reports them "
                            "together anyway, labelled)");
        }
        report.notes.push_back("Mixed runs: " + what +
                               "; their numbers are averaged as if they were seeds.");
    }
    if (options.require_reference && !conds.count(options.reference)) {
        std::string list;
        for (const std::string& c : report.conditions) list += (list.empty() ? "" : ", ") + c;
        throw Error(ErrorCode::invalid_argument, "report: --reference '" + options.reference +
                                                     "' is not a condition of these runs (" + list +
                                                     ")");
    }
    // Controls without outputs (no_conversation) after the conditions they control for.
    std::stable_partition(report.conditions.begin(), report.conditions.end(),
                          [](const std::string& c) { return !is_control_condition(c); });
    for (const std::string& c : report.conditions) {
        if (!is_control_condition(c)) continue;
        report.notes.push_back(
            c +
            " is a control, not a condition: every question asked with no conversation at "
            "all (the question alone), what guessing scores. It has no outputs (their "
            "metrics are –) and is never a baseline in the comparisons.");
    }
    for (auto& [k, v] : report.provenance) dedupe(v);
    report.provenance["BLEU signature"] = {bleu_signature(BleuLevel::sentence)};
    report.provenance["chrF signature"] = {chrf_signature()};

    // metric -> condition -> example -> run -> (sum, count) over outputs.
    std::map<
        std::string,
        std::map<std::string, std::map<std::string, std::map<std::string, std::pair<double, int>>>>>
        acc;
    for (const TidyRow& r : report.rows) {
        auto& cell = acc[r.metric][r.condition][r.example_id][r.run];
        cell.first += r.value;
        cell.second += 1;
    }
    PairedOptions po;
    po.seed = options.seed;
    po.n_resamples = options.n_resamples;
    // Per metric and condition: example -> mean over runs, and spread over runs.
    std::map<std::string, std::map<std::string, std::map<std::string, double>>> per_example;
    for (const MetricSpec& spec : kMetrics) {
        const auto it = acc.find(spec.id);
        if (it == acc.end()) continue;
        for (const std::string& cond : report.conditions) {
            const auto ct = it->second.find(cond);
            if (ct == it->second.end()) continue;
            ConditionSummary s;
            s.metric = spec.id;
            s.condition = cond;
            std::vector<double> values, spreads;
            for (const auto& [ex, runs] : ct->second) {
                double lo = INFINITY, hi = -INFINITY, sum = 0;
                for (const auto& [run, sc] : runs) {
                    const double v = sc.first / sc.second;
                    sum += v;
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
                const double v = sum / static_cast<double>(runs.size());
                per_example[spec.id][cond][ex] = v;
                values.push_back(v);
                if (report.runs.size() > 1 && runs.size() > 1) spreads.push_back(hi - lo);
            }
            s.n = static_cast<int64_t>(values.size());
            if (!values.empty()) {
                double sum = 0;
                for (double v : values) sum += v;
                s.mean = sum / static_cast<double>(values.size());
                s.ci = bootstrap_mean_interval(values, po);
            }
            if (!spreads.empty()) {
                double sum = 0;
                for (double v : spreads) sum += v;
                s.mean_spread = sum / static_cast<double>(spreads.size());
                s.max_spread = *std::max_element(spreads.begin(), spreads.end());
            }
            report.summaries.push_back(s);
        }
    }

    flag_uninformative_judges(report);
    flag_copying(report);

    // The reference condition against every other, paired by example; Holm per metric.
    if (conds.count(options.reference)) {
        for (const MetricSpec& spec : kMetrics) {
            auto& by_cond = per_example[spec.id];
            const auto ref = by_cond.find(options.reference);
            if (ref == by_cond.end()) continue;
            const size_t first = report.comparisons.size();
            for (const std::string& cond : report.conditions) {
                if (cond == options.reference || !by_cond.count(cond) || is_copy_control(cond) ||
                    is_control_condition(cond)) {
                    continue;  // controls are shown as rows, never tested as baselines
                }
                std::vector<double> a, b;
                for (const auto& [ex, v] : ref->second) {
                    const auto o = by_cond[cond].find(ex);
                    if (o == by_cond[cond].end()) continue;
                    a.push_back(v);
                    b.push_back(o->second);
                }
                if (a.empty()) continue;
                Comparison c;
                c.metric = spec.id;
                c.condition = options.reference;
                c.baseline = cond;
                c.stats = compare_paired(a, b, po);
                report.comparisons.push_back(c);
                const auto m = options.ni_margins.find(spec.id);
                if (m != options.ni_margins.end() && a.size() >= 2) {
                    NonInferiority ni = non_inferiority(a, b, m->second, options.alpha, po);
                    // A metric that is one value in every example of both conditions (a judge
                    // that gives every output the same score) measured nothing: no verdict.
                    const auto constant = [](const std::vector<double>& v) {
                        return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
                    };
                    if (constant(a) && constant(b)) {
                        ni.verdict = NonInferiorityVerdict::undefined;
                        ni.undefined_reason = "the metric is constant in both conditions";
                    }
                    if (const auto u = report.uninformative.find(spec.id);
                        u != report.uninformative.end()) {
                        ni.verdict = NonInferiorityVerdict::undefined;
                        ni.undefined_reason = "uninformative judge: " + u->second;
                    }
                    report.non_inferiority.push_back({spec.id, options.reference, cond, ni});
                }
            }
            std::vector<double> pw, pt;
            for (size_t i = first; i < report.comparisons.size(); ++i) {
                pw.push_back(report.comparisons[i].stats.wilcoxon.p_value);
                pt.push_back(report.comparisons[i].stats.t_test.p_value);
            }
            const auto hw = holm(pw), ht = holm(pt);
            for (size_t i = first; i < report.comparisons.size(); ++i) {
                report.comparisons[i].holm_wilcoxon = hw[i - first];
                report.comparisons[i].holm_t = ht[i - first];
            }
        }
    }
    return report;
}

}  // namespace rdic
