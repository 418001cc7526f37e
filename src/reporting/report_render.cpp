// Renderers of a Report: JSON (programs), tidy CSV (pandas, R), Markdown (README, pull
// requests) and a self-contained HTML page with SVG charts (no scripts, no network).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rdic/build_info.h"
#include "rdic/isolation/plan.h"
#include "rdic/reporting/report.h"

namespace rdic {

namespace {

using json = nlohmann::ordered_json;

const std::string kControlsNote =
    "copy_own and copy_all are no-model controls: each output replaced by the first words of its "
    "cluster's own turns (copy_own) or of the whole conversation (copy_all), as many words as the "
    "run's outputs of that cluster have on average. A score is evidence only where it is above "
    "what copying scores. Questions are scored by normalised match: correct (an accepted answer, "
    "no lure), lure (another topic's value for the same attribute), abstained.";

const std::vector<std::string> kMainColumns = {"question.correct",
                                               "question.lure",
                                               "cross.correct",
                                               "topic.foreign_per_100_words",
                                               "topic.leaked_canaries",
                                               "topic.own_term_coverage",
                                               "topic.chrf",
                                               "topic.copy_share",
                                               "topic.judge_focus",
                                               "synthesis.chrf",
                                               "topic.hit_token_limit",
                                               "example.kv_peak_mib",
                                               "example.total_s"};

const std::vector<std::string> kKeyComparisons = {"question.correct",
                                                  "question.lure",
                                                  "cross.correct",
                                                  "topic.foreign_per_100_words",
                                                  "topic.leaked_canaries",
                                                  "topic.leaking_output",
                                                  "topic.own_term_coverage",
                                                  "topic.chrf",
                                                  "topic.rougeL",
                                                  "topic.embed_cosine",
                                                  "topic.judge_relevance",
                                                  "topic.judge_focus",
                                                  "topic.judge_expected_focus",
                                                  "synthesis.term_coverage",
                                                  "synthesis.chrf",
                                                  "synthesis.judge_integration",
                                                  "example.kv_peak_mib",
                                                  "example.total_s"};

const std::vector<std::string> kCharts = {"question.correct",
                                          "question.lure",
                                          "cross.correct",
                                          "topic.foreign_per_100_words",
                                          "topic.leaked_canaries",
                                          "topic.chrf",
                                          "topic.rougeL",
                                          "topic.embed_cosine",
                                          "topic.judge_relevance",
                                          "topic.judge_focus",
                                          "topic.judge_expected_focus",
                                          "topic.judge_coherence",
                                          "synthesis.term_coverage",
                                          "synthesis.chrf",
                                          "synthesis.judge_integration",
                                          "example.kv_peak_mib",
                                          "example.total_s",
                                          "example.ttft_s"};

const MetricSpec* spec_of(const std::string& id) {
    for (const MetricSpec& m : report_metrics()) {
        if (m.id == id) return &m;
    }
    return nullptr;
}

std::string fmt(double v, int decimals) {
    if (!std::isfinite(v)) return "–";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string fmt_p(double p) {
    if (!std::isfinite(p)) return "–";
    char buf[32];
    if (p < 0.001)
        std::snprintf(buf, sizeof buf, "%.1e", p);
    else
        std::snprintf(buf, sizeof buf, "%.3f", p);
    return buf;
}

std::string fmt_ci(const BootstrapInterval& ci, int decimals) {
    if (!ci.defined()) return "";
    return "[" + fmt(ci.lower, decimals) + ", " + fmt(ci.upper, decimals) + "]";
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

const char* verdict_name(NonInferiorityVerdict v) {
    switch (v) {
        case NonInferiorityVerdict::non_inferior:
            return "non-inferior";
        case NonInferiorityVerdict::not_shown:
            return "not shown";
        case NonInferiorityVerdict::undefined:
            break;
    }
    return "undefined";
}

json num(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

// A table as rows of cells; rendered as Markdown or HTML.
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

std::string markdown(const Table& t) {
    std::string out = "|";
    for (const auto& h : t.header) out += " " + h + " |";
    out += "\n|";
    for (size_t i = 0; i < t.header.size(); ++i) out += i == 0 ? "---|" : "---:|";
    out += "\n";
    for (const auto& r : t.rows) {
        out += "|";
        for (const auto& c : r) out += " " + c + " |";
        out += "\n";
    }
    return out;
}

std::string html(const Table& t) {
    std::string out = "<table><thead><tr>";
    for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr></thead><tbody>";
    for (const auto& r : t.rows) {
        out += "<tr>";
        for (size_t i = 0; i < r.size(); ++i) {
            out += (i == 0 ? "<th>" : "<td>") + html_escape(r[i]) + (i == 0 ? "</th>" : "</td>");
        }
        out += "</tr>";
    }
    return out + "</tbody></table>\n";
}

Table runs_table(const Report& r) {
    Table t{{"run", "model", "execution", "clustering (mean ARI)", "temperature", "seed",
             "max tokens", "pairs ok", "pairs failed", "metric records"},
            {}};
    for (const RunInfo& i : r.runs) {
        t.rows.push_back(
            {i.name, i.model + " (" + i.model_sha256_prefix + ")", i.execution,
             i.clustering +
                 (std::isfinite(i.mean_ari) ? " (" + fmt(i.mean_ari, 3) + ")" : std::string()),
             fmt(i.temperature, 2), std::to_string(i.seed), std::to_string(i.max_tokens),
             std::to_string(i.pairs_ok), std::to_string(i.pairs_failed),
             std::to_string(i.metric_records)});
    }
    return t;
}

// Conditions as rows, metrics as columns: "mean [CI]".
Table main_table(const Report& r) {
    Table t;
    t.header.push_back("condition");
    std::vector<std::string> cols;
    for (const std::string& id : kMainColumns) {
        const MetricSpec* s = spec_of(id);
        bool any = false;
        for (const std::string& c : r.conditions) {
            any = any || r.summary(id, c) != nullptr || r.not_measured.count({id, c}) > 0;
        }
        if (s == nullptr || !any) continue;
        cols.push_back(id);
        t.header.push_back(s->label + (s->lower_is_better ? " ↓" : " ↑"));
    }
    for (const std::string& c : r.conditions) {
        std::vector<std::string> row{is_control_condition(c) ? c + " (control)" : c};
        for (const std::string& id : cols) {
            const ConditionSummary* s = r.summary(id, c);
            const int d = spec_of(id)->decimals;
            if (s != nullptr && r.uninformative.count(id)) {
                row.push_back("uninformative");
                continue;
            }
            if (s == nullptr && r.not_measured.count({id, c})) {
                row.push_back("n/a");
                continue;
            }
            row.push_back(s == nullptr ? "–" : fmt(s->mean, d) + ' ' + fmt_ci(s->ci, d));
        }
        t.rows.push_back(row);
    }
    return t;
}

Table comparison_table(const Report& r, const std::vector<std::string>& metrics) {
    Table t{{"metric", "baseline", "n", r.options.reference, "baseline mean", "difference [95% CI]",
             "Wilcoxon p", "paired t p", "d_z", "Holm p (Wilcoxon)", "Holm p (t)"},
            {}};
    for (const std::string& id : metrics) {
        const MetricSpec* s = spec_of(id);
        if (s == nullptr) continue;
        for (const Comparison& c : r.comparisons) {
            if (c.metric != id) continue;
            const PairedComparison& p = c.stats;
            t.rows.push_back(
                {s->label, c.baseline, std::to_string(p.n), fmt(p.mean_a, s->decimals),
                 fmt(p.mean_b, s->decimals),
                 fmt(p.mean_difference, s->decimals) + " " + fmt_ci(p.bootstrap, s->decimals),
                 fmt_p(p.wilcoxon.p_value), fmt_p(p.t_test.p_value), fmt(p.cohens_dz.value, 2),
                 fmt_p(c.holm_wilcoxon), fmt_p(c.holm_t)});
        }
    }
    return t;
}

Table ni_table(const Report& r) {
    Table t{{"metric", "baseline", "margin", "n", "difference", "one-sided t p",
             "bootstrap lower bound", "verdict"},
            {}};
    for (const NonInferiorityResult& n : r.non_inferiority) {
        const MetricSpec* s = spec_of(n.metric);
        const int d = s != nullptr ? s->decimals : 3;
        const char* verdict = verdict_name(n.test.verdict);
        const std::string why = n.test.undefined_reason.empty()
                                    ? std::string(verdict)
                                    : std::string(verdict) + " (" + n.test.undefined_reason + ")";
        t.rows.push_back({s != nullptr ? s->label : n.metric, n.baseline, fmt(n.test.margin, d),
                          std::to_string(n.test.n), fmt(n.test.mean_difference, d),
                          fmt_p(n.test.t_test.p_value), fmt(n.test.bootstrap_lower, d), why});
    }
    return t;
}

// Every metric (rows) by condition (columns): mean, and spread over runs when there are several.
Table all_metrics_table(const Report& r) {
    Table t;
    t.header.push_back("metric");
    for (const std::string& c : r.conditions) t.header.push_back(c);
    const bool seeds = r.runs.size() > 1;
    for (const MetricSpec& s : report_metrics()) {
        std::vector<std::string> row{s.label};
        bool any = false;
        for (const std::string& c : r.conditions) {
            const ConditionSummary* cs = r.summary(s.id, c);
            const bool not_measured = cs == nullptr && r.not_measured.count({s.id, c}) > 0;
            any = any || cs != nullptr || not_measured;
            std::string cell =
                cs == nullptr ? (not_measured ? "n/a" : "–") : fmt(cs->mean, s.decimals);
            if (cs != nullptr && seeds && std::isfinite(cs->mean_spread)) {
                cell += " (spread " + fmt(cs->mean_spread, s.decimals) + ")";
            }
            row.push_back(cell);
        }
        if (any) t.rows.push_back(row);
    }
    return t;
}

std::string provenance_lines(const Report& r, bool html_mode) {
    std::string out;
    for (const auto& [k, vs] : r.provenance) {
        for (const auto& v : vs) {
            out += html_mode ? "<li>" + html_escape(k + ": " + v) + "</li>\n"
                             : "- " + k + ": " + v + "\n";
        }
    }
    return out;
}

// One horizontal bar chart: a bar per condition at its mean, whiskers at the 95% CI.
std::string svg_chart(const Report& r, const std::string& id) {
    const MetricSpec* s = spec_of(id);
    std::vector<const ConditionSummary*> rows;
    for (const std::string& c : r.conditions) {
        if (const ConditionSummary* cs = r.summary(id, c); cs != nullptr && std::isfinite(cs->mean))
            rows.push_back(cs);
    }
    if (s == nullptr || rows.empty()) return "";
    double hi = 0, lo = 0;
    for (const ConditionSummary* cs : rows) {
        hi = std::max({hi, cs->mean, cs->ci.defined() ? cs->ci.upper : cs->mean});
        lo = std::min({lo, cs->mean, cs->ci.defined() ? cs->ci.lower : cs->mean});
    }
    if (hi - lo <= 0) hi = lo + 1;
    const double label_w = 130, plot_w = 300, bar_h = 18, gap = 8, top = 30;
    const double height = top + static_cast<double>(rows.size()) * (bar_h + gap) + 10;
    auto x = [&](double v) { return label_w + (v - lo) / (hi - lo) * plot_w; };
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(1);
    o << "<figure class=\"chart\" data-metric=\"" << id
      << "\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + plot_w + 70
      << "\" height=\"" << height << "\" role=\"img\" aria-label=\"" << html_escape(s->label)
      << "\">";
    o << "<text x=\"0\" y=\"16\" class=\"title\">" << html_escape(s->label)
      << (s->lower_is_better ? " (lower is better)" : " (higher is better)") << "</text>";
    o << "<line x1=\"" << x(0) << "\" y1=\"" << top - 4 << "\" x2=\"" << x(0) << "\" y2=\""
      << height - 8 << "\" class=\"axis\"/>";
    for (size_t i = 0; i < rows.size(); ++i) {
        const ConditionSummary* cs = rows[i];
        const double y = top + static_cast<double>(i) * (bar_h + gap);
        const bool ref = cs->condition == r.options.reference;
        o << "<text x=\"" << label_w - 6 << "\" y=\"" << y + 13 << "\" class=\"label\">"
          << html_escape(cs->condition) << "</text>";
        const double x0 = x(std::min(0.0, cs->mean)), x1 = x(std::max(0.0, cs->mean));
        o << "<rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << std::max(1.0, x1 - x0)
          << "\" height=\"" << bar_h << "\" class=\"bar" << (ref ? " ref" : "") << "\"/>";
        if (cs->ci.defined()) {
            const double cy = y + bar_h / 2;
            o << "<line x1=\"" << x(cs->ci.lower) << "\" y1=\"" << cy << "\" x2=\""
              << x(cs->ci.upper) << "\" y2=\"" << cy << "\" class=\"ci\"/>";
            for (double v : {cs->ci.lower, cs->ci.upper}) {
                o << "<line x1=\"" << x(v) << "\" y1=\"" << cy - 5 << "\" x2=\"" << x(v)
                  << "\" y2=\"" << cy + 5 << "\" class=\"ci\"/>";
            }
        }
        o << "<text x=\"" << label_w + plot_w + 6 << "\" y=\"" << y + 13 << "\" class=\"value\">"
          << fmt(cs->mean, s->decimals) << "</text>";
    }
    o << "</svg><figcaption>mean over examples; whiskers: 95% bootstrap CI</figcaption></figure>\n";
    return o.str();
}

}  // namespace

std::string render_json(const Report& r) {
    json j;
    j["schema"] = "rdic.report/v1";
    j["generated_at"] = r.generated_at;
    j["rdic_version"] = build_info::kVersion;
    j["reference_condition"] = r.options.reference;
    j["bootstrap"] = {
        {"resamples", r.options.n_resamples}, {"seed", r.options.seed}, {"confidence", 0.95}};
    json runs = json::array();
    for (const RunInfo& i : r.runs) {
        runs.push_back({{"name", i.name},
                        {"dir", i.dir},
                        {"model", i.model},
                        {"model_sha256_prefix", i.model_sha256_prefix},
                        {"execution", i.execution},
                        {"clustering", i.clustering},
                        {"mean_ari", num(i.mean_ari)},
                        {"temperature", i.temperature},
                        {"seed", i.seed},
                        {"max_tokens", i.max_tokens},
                        {"pairs_ok", i.pairs_ok},
                        {"pairs_failed", i.pairs_failed},
                        {"metric_records", i.metric_records}});
    }
    j["runs"] = runs;
    j["conditions"] = r.conditions;
    json metrics = json::array();
    for (const MetricSpec& s : report_metrics()) {
        metrics.push_back({{"id", s.id},
                           {"label", s.label},
                           {"group", s.group},
                           {"lower_is_better", s.lower_is_better}});
    }
    j["metrics"] = metrics;
    json sums = json::array();
    for (const ConditionSummary& s : r.summaries) {
        sums.push_back({{"metric", s.metric},
                        {"condition", s.condition},
                        {"n", s.n},
                        {"mean", num(s.mean)},
                        {"ci_lower", num(s.ci.lower)},
                        {"ci_upper", num(s.ci.upper)},
                        {"mean_spread", num(s.mean_spread)},
                        {"max_spread", num(s.max_spread)}});
    }
    j["summary"] = sums;
    json comps = json::array();
    for (const Comparison& c : r.comparisons) {
        const PairedComparison& p = c.stats;
        comps.push_back({{"metric", c.metric},
                         {"condition", c.condition},
                         {"baseline", c.baseline},
                         {"n", p.n},
                         {"mean_condition", num(p.mean_a)},
                         {"mean_baseline", num(p.mean_b)},
                         {"mean_difference", num(p.mean_difference)},
                         {"ci_lower", num(p.bootstrap.lower)},
                         {"ci_upper", num(p.bootstrap.upper)},
                         {"wilcoxon_p", num(p.wilcoxon.p_value)},
                         {"wilcoxon_statistic", num(p.wilcoxon.statistic)},
                         {"t_p", num(p.t_test.p_value)},
                         {"t", num(p.t_test.t)},
                         {"cohens_dz", num(p.cohens_dz.value)},
                         {"holm_wilcoxon_p", num(c.holm_wilcoxon)},
                         {"holm_t_p", num(c.holm_t)}});
    }
    j["comparisons"] = comps;
    json ni = json::array();
    for (const NonInferiorityResult& n : r.non_inferiority) {
        ni.push_back({{"metric", n.metric},
                      {"condition", n.condition},
                      {"baseline", n.baseline},
                      {"margin", num(n.test.margin)},
                      {"alpha", num(n.test.alpha)},
                      {"n", n.test.n},
                      {"mean_difference", num(n.test.mean_difference)},
                      {"t_p", num(n.test.t_test.p_value)},
                      {"bootstrap_lower", num(n.test.bootstrap_lower)},
                      {"verdict", verdict_name(n.test.verdict)}});
    }
    j["non_inferiority"] = ni;
    j["provenance"] = r.provenance;
    j["notes"] = r.notes;
    j["uninformative_metrics"] = r.uninformative;
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_main_table(const Report& r) {
    return markdown(main_table(r));
}

std::string render_csv(const Report& r) {
    std::string out = "run,example_id,condition,cluster,kind,metric,value\n";
    char buf[64];
    for (const TidyRow& row : r.rows) {
        std::snprintf(buf, sizeof buf, "%.17g", row.value);
        out += csv_field(row.run) + "," + csv_field(row.example_id) + "," +
               csv_field(row.condition) + "," + csv_field(row.cluster) + "," + row.kind + "," +
               row.metric + "," + buf + "\n";
    }
    return out;
}

std::string render_markdown(const Report& r) {
    std::string out = "# rdic report\n\n";
    out += "Generated " + r.generated_at + " by rdic " + build_info::kVersion + ". Means over " +
           "examples with 95% bootstrap CIs (" + std::to_string(r.options.n_resamples) +
           " resamples, seed " + std::to_string(r.options.seed) + ").\n\n";
    out += "## Runs\n\n" + markdown(runs_table(r)) + "\n";
    for (const std::string& n : r.notes) out += "> **Note.** " + n + "\n\n";
    out += "## Main table\n\n" + markdown(main_table(r)) + "\n" + kControlsNote + "\n\n";
    out += "## " + r.options.reference + " against each baseline\n\n";
    out += "Paired by example; difference = " + r.options.reference +
           " − baseline; Holm adjustment over the comparisons of each metric.\n\n";
    out += markdown(comparison_table(r, kKeyComparisons)) + "\n";
    if (!r.non_inferiority.empty()) {
        out += "## Non-inferiority of synthesis quality\n\nH0: " + r.options.reference +
               " is worse than the baseline by at least the margin (one-sided, alpha " +
               fmt(r.options.alpha, 2) +
               "); non-inferior when both the paired t test and the bootstrap lower bound reject "
               "it.\n\n" +
               markdown(ni_table(r)) + "\n";
    }
    out += "## All metrics\n\n" + markdown(all_metrics_table(r)) + "\n";
    std::vector<std::string> every;
    for (const MetricSpec& s : report_metrics()) every.push_back(s.id);
    out += "<details><summary>Every comparison</summary>\n\n" +
           markdown(comparison_table(r, every)) + "\n</details>\n\n";
    out += "## Provenance\n\n" + provenance_lines(r, false);
    return out;
}

std::string render_html(const Report& r) {
    std::string out = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rdic report</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;color:#1d2430;background:#fff}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d8dee8}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{padding:.25em .6em;border-bottom:1px solid #e4e8ef;text-align:right}
thead th{background:#f2f5f9}tbody th{text-align:left;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure.chart{margin:0;padding:.5em;border:1px solid #e4e8ef;border-radius:6px}
figcaption{font-size:.75em;color:#5b6678}.note{background:#fff6e0;border-left:4px solid #e0a400;padding:.4em .8em}
svg .title{font-size:13px;font-weight:600;fill:#1d2430}svg .label{font-size:12px;text-anchor:end;fill:#1d2430}
svg .value{font-size:12px;fill:#1d2430}svg .bar{fill:#8fa6c8}svg .bar.ref{fill:#2f6fd0}
svg .ci{stroke:#1d2430;stroke-width:1.5}svg .axis{stroke:#9aa5b5;stroke-width:1}
</style></head><body>
)";
    out += "<h1>rdic report</h1>\n<p>Generated " + html_escape(r.generated_at) + " by rdic " +
           build_info::kVersion + ". Means over examples with 95% bootstrap CIs (" +
           std::to_string(r.options.n_resamples) + " resamples, seed " +
           std::to_string(r.options.seed) + "). The reference condition (" +
           html_escape(r.options.reference) + ") is drawn darker.</p>\n";
    out += "<h2>Runs</h2>\n" + html(runs_table(r));
    out += "<h2>Charts</h2>\n<div class=\"charts\">\n";
    for (const std::string& id : kCharts) out += svg_chart(r, id);
    out += "</div>\n";
    for (const std::string& n : r.notes) {
        out += "<p class=\"note\"><strong>Note.</strong> " + html_escape(n) + "</p>\n";
    }
    out += "<h2>Main table</h2>\n" + html(main_table(r)) + "<p>" + html_escape(kControlsNote) +
           "</p>\n";
    out += "<h2>" + html_escape(r.options.reference) +
           " against each baseline</h2>\n<p>Paired by example; difference = " +
           html_escape(r.options.reference) +
           " − baseline; Holm adjustment over the comparisons of each metric.</p>\n" +
           html(comparison_table(r, kKeyComparisons));
    if (!r.non_inferiority.empty()) {
        out += "<h2>Non-inferiority of synthesis quality</h2>\n" + html(ni_table(r));
    }
    out += "<h2>All metrics</h2>\n" + html(all_metrics_table(r));
    std::vector<std::string> every;
    for (const MetricSpec& s : report_metrics()) every.push_back(s.id);
    out += "<details><summary>Every comparison</summary>\n" + html(comparison_table(r, every)) +
           "</details>\n";
    out += "<h2>Provenance</h2>\n<ul>\n" + provenance_lines(r, true) + "</ul>\n</body></html>\n";
    return out;
}

}  // namespace rdic
