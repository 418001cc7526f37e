// `rdic eval --results DIR`: contamination metrics of every output in DIR/results.jsonl, without
// regenerating anything. Appends one record per (example, condition, output) to
// DIR/metrics.jsonl (metric set "contamination/v1"; already present records are not repeated)
// and prints a per-condition table.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "rdic/datasets/example.h"
#include "rdic/error.h"
#include "rdic/evaluation/contamination.h"
#include "rdic/isolation/plan.h"

namespace rdic::cli {

namespace {

using json = nlohmann::json;
constexpr const char* kMetricSet = "contamination/v1";

struct EvalArgs {
    std::string results;
};

struct Sums {
    int topic_outputs = 0, leaking_outputs = 0, synth_outputs = 0;
    double foreign_per_100 = 0, foreign_share = 0, own_coverage = 0, synth_coverage = 0;
    int64_t leaked = 0;
};

int run_eval(const EvalArgs& args) {
    const std::filesystem::path dir(args.results);
    const auto results = dir / "results.jsonl";
    std::ifstream in(results);
    if (!in) throw Error(ErrorCode::file_not_found, results.string() + ": cannot open");
    const auto metrics_path = dir / "metrics.jsonl";
    std::set<std::string> have;
    if (std::ifstream old(metrics_path); old) {
        std::string line;
        while (std::getline(old, line)) {
            const json j = json::parse(line, nullptr, false);
            if (j.is_object() && j.value("metric_set", "") == kMetricSet) {
                have.insert(j.value("example_id", "") + "/" + j.value("condition", "") + "/" +
                            j.value("cluster", ""));
            }
        }
    }
    std::ofstream out(metrics_path, std::ios::app);
    std::map<std::string, Example> examples;
    std::map<std::string, Sums> sums;
    std::vector<std::string> order;
    std::string line;
    int line_no = 0, skipped = 0;
    while (std::getline(in, line)) {
        ++line_no;
        const json r = json::parse(line, nullptr, false);
        if (!r.is_object() || r.value("status", "") != "ok") {
            ++skipped;
            continue;
        }
        const std::string file = r.value("file", "");
        auto it = examples.find(file);
        if (it == examples.end()) {
            LoadResult lr = load_example(file);
            if (!lr.example) {
                std::cerr << "rdic: eval: " << results.string() << ": line " << line_no
                          << ": example file " << file << " cannot be read\n";
                ++skipped;
                continue;
            }
            it = examples.emplace(file, std::move(*lr.example)).first;
        }
        const Example& ex = it->second;
        const std::string cond = r.value("condition", "");
        if (!sums.count(cond)) order.push_back(cond);
        Sums& s = sums[cond];
        for (const json& o : r.value("outputs", json::array())) {
            const std::string cluster = o.value("cluster", "");
            const OutputMetrics m = evaluate_output(ex, cluster, o.value("text", ""));
            if (m.kind == ClusterKind::topic) {
                ++s.topic_outputs;
                s.foreign_per_100 += m.foreign_per_100_words;
                s.foreign_share += m.foreign_share;
                s.own_coverage += m.own_term_coverage;
                s.leaked += static_cast<int64_t>(m.leaked_canaries.size());
                s.leaking_outputs += !m.leaked_canaries.empty();
            } else {
                ++s.synth_outputs;
                double cov = 0;
                for (const auto& [id, c] : m.topic_term_coverage) cov += c;
                if (!m.topic_term_coverage.empty()) {
                    s.synth_coverage += cov / static_cast<double>(m.topic_term_coverage.size());
                }
            }
            const std::string key = r.value("example_id", "") + "/" + cond + "/" + cluster;
            if (have.count(key)) continue;
            json rec = {{"metric_set", kMetricSet},
                        {"example_id", r.value("example_id", "")},
                        {"condition", cond},
                        {"naive", r.value("naive", false)},
                        {"cluster", cluster},
                        {"kind", m.kind == ClusterKind::topic ? "topic" : "synthesis"},
                        {"n_words", m.n_words},
                        {"hit_token_limit", o.value("stop_reason", "") == "max_tokens"},
                        {"own_hits", m.own_hits},
                        {"foreign_hits", m.foreign_hits},
                        {"foreign_per_100_words", m.foreign_per_100_words},
                        {"foreign_share", m.foreign_share},
                        {"own_term_coverage", m.own_term_coverage},
                        {"foreign_hits_by_cluster", m.foreign_hits_by_cluster},
                        {"leaked_canaries", m.leaked_canaries},
                        {"own_canaries", m.own_canaries},
                        {"topic_term_coverage", m.topic_term_coverage},
                        {"topic_canary_coverage", m.topic_canary_coverage}};
            out << rec.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        }
    }
    out.flush();
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-18s %7s %12s %10s %10s %14s %10s\n", "condition", "topics",
                  "foreign/100w", "foreign %", "own cov %", "canary leaks", "synth cov %");
    std::cout << buf;
    for (const std::string& c : order) {
        const Sums& s = sums[c];
        const double n = s.topic_outputs ? s.topic_outputs : 1;
        std::snprintf(buf, sizeof buf, "%-18s %7d %12.3f %10.2f %10.1f %7lld in %3d %10.1f\n",
                      c.c_str(), s.topic_outputs, s.foreign_per_100 / n, 100 * s.foreign_share / n,
                      100 * s.own_coverage / n, static_cast<long long>(s.leaked), s.leaking_outputs,
                      s.synth_outputs ? 100 * s.synth_coverage / s.synth_outputs : 0.0);
        std::cout << buf;
    }
    std::cout << "metrics: " << metrics_path.string() << "\n";
    if (skipped > 0)
        std::cerr << "rdic: eval: " << skipped << " records skipped (failed or unreadable)\n";
    return 0;
}

}  // namespace

Action add_eval(CLI::App& app) {
    auto args = std::make_shared<EvalArgs>();
    app.add_option("--results", args->results, "Results directory of `rdic run`")->required();
    return [args] { return run_eval(*args); };
}

}  // namespace rdic::cli
