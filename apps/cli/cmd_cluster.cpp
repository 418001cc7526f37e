// `rdic cluster --data PATH... [--method M] [--json]`: the turn -> cluster assignment of every
// example under one clustering method and, against the labels, ARI and NMI per example and
// overall, synthesis-turn detection counts and the time clustering takes per example.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "cluster_options.h"
#include "commands.h"
#include "rdic/build_info.h"
#include "rdic/clustering/assignment.h"
#include "rdic/clustering/metrics.h"

namespace rdic::cli {

namespace {

using json = nlohmann::json;

struct ClusterCmdArgs {
    std::vector<std::string> data;
    std::string model;
    bool json_out = false;
    std::string dump_embeddings;
    int32_t n_gpu_layers = -1;
    int32_t n_threads = 0;
    ClusterArgs cluster;
};

int run_cluster(const ClusterCmdArgs& args) {
    ClusterOptions options = to_cluster_options(args.cluster, args.n_threads);
    options.keep_embeddings = !args.dump_embeddings.empty();
    std::ofstream dump;
    if (options.keep_embeddings) {
        dump.open(args.dump_embeddings, std::ios::trunc);
        if (!dump) {
            throw Error(ErrorCode::file_not_found, args.dump_embeddings + ": cannot write");
        }
    }
    int n_invalid = 0;
    const std::vector<Example> examples = load_examples(args.data, &n_invalid);
    const auto model = clustering_model(args.cluster, nullptr, args.model, args.n_gpu_layers);
    TurnClusterer clusterer(model, options);

    json out_examples = json::array();
    double sum_ari = 0, sum_nmi = 0, sum_ms = 0, sum_model_ms = 0, sum_route_ms = 0;
    int64_t n_routed = 0, n_llm = 0;
    int tp = 0, fp = 0, fn = 0;
    std::ostringstream text;
    char line[256];
    std::snprintf(line, sizeof line, "%-12s %5s %3s %6s %7s %7s %12s %9s\n", "example", "turns",
                  "k", "labels", "ARI", "NMI", "synth found", "time ms");
    text << line;
    for (size_t e = 0; e < examples.size(); ++e) {
        const Example& ex = examples[e];
        const ClusteringResult r = clusterer.cluster(ex);
        const Reclustered rc = recluster(ex, r.assignment);
        for (size_t i = 0; i < r.embeddings.size(); ++i) {
            const Turn& t = ex.turns[r.embedded_turns[i]];
            dump << json{{"example_id", ex.id},
                         {"turn", t.id},
                         {"label", t.cluster},
                         {"embedding", r.embeddings[i]}}
                        .dump()
                 << "\n";
        }
        int ex_tp = 0, ex_fp = 0, ex_fn = 0;
        std::map<size_t, const TopicChoice*> choice_of;
        for (size_t i = 0; i < r.choices.size(); ++i) choice_of[r.routed_turns[i]] = &r.choices[i];
        json turns = json::array();
        std::string assignment_line = " ";
        for (size_t t = 0; t < ex.turns.size(); ++t) {
            const bool is_synth = ex.find(ex.turns[t].cluster)->kind == ClusterKind::synthesis;
            json tj = {{"turn", ex.turns[t].id},
                       {"cluster", rc.example.turns[t].cluster},
                       {"label", ex.turns[t].cluster}};
            if (!r.synthesis.empty()) {
                const bool found = r.synthesis[t].is_synthesis;
                ex_tp += found && is_synth;
                ex_fp += found && !is_synth;
                ex_fn += !found && is_synth;
                if (found) tj["synthesis_rule"] = r.synthesis[t].rule;
            }
            if (const auto it = choice_of.find(t); it != choice_of.end()) {
                const TopicChoice& c = *it->second;
                tj["route"] = {{"score", c.score},
                               {"margin", c.margin},
                               {"opened", c.opened},
                               {"shift_cue", c.shift_cue},
                               {"shift_p", c.shift_p},
                               {"probe_p", c.probe_p},
                               {"llm_decided", c.llm_decided},
                               {"route_ms", c.route_ms}};
                if (!c.pair_p.empty()) tj["route"]["pair_p"] = c.pair_p;
            }
            turns.push_back(tj);
            const bool wrong = rc.example.turns[t].cluster != ex.turns[t].cluster;
            assignment_line += " " + std::to_string(ex.turns[t].id) + ":" +
                               rc.example.turns[t].cluster + (wrong ? "*" : "");
        }
        tp += ex_tp;
        fp += ex_fp;
        fn += ex_fn;
        sum_ari += r.ari;
        sum_nmi += r.nmi;
        sum_ms += r.total_ms;
        sum_model_ms += r.embed_ms;
        sum_route_ms += r.route_ms;
        n_routed += r.n_routed;
        n_llm += r.n_llm;
        const std::string synth =
            r.synthesis.empty() ? "-"
                                : std::to_string(ex_tp) + "/" + std::to_string(ex_tp + ex_fn) +
                                      (ex_fp ? " +" + std::to_string(ex_fp) : "");
        std::snprintf(line, sizeof line, "%-12s %5zu %3d %6zu %7.3f %7.3f %12s %9.0f\n",
                      ex.id.c_str(), ex.turns.size(), r.k, ex.topics().size(), r.ari, r.nmi,
                      synth.c_str(), r.total_ms);
        text << line << assignment_line << "\n";
        json ej = {{"example_id", ex.id},
                   {"file", ex.file.string()},
                   {"n_turns", ex.turns.size()},
                   {"k", r.k},
                   {"k_labels", ex.topics().size()},
                   {"ari", r.ari},
                   {"nmi", r.nmi},
                   {"silhouette", r.silhouette},
                   {"time_ms", r.total_ms},
                   {"model_ms", r.embed_ms},
                   {"route_ms", r.route_ms},
                   {"n_routed", r.n_routed},
                   {"n_llm", r.n_llm},
                   {"assignment", turns}};
        if (!r.topic_names.empty()) {
            json names = json::object();
            for (size_t i = 0; i < r.topic_names.size(); ++i) {
                names[rc.cluster_of_found.at(i)] = r.topic_names[i];
            }
            ej["topic_names"] = names;
        }
        out_examples.push_back(ej);
    }
    const double n = static_cast<double>(examples.size());
    json overall = {{"n_examples", examples.size()},
                    {"mean_ari", sum_ari / n},
                    {"mean_nmi", sum_nmi / n},
                    {"mean_time_ms", sum_ms / n},
                    {"mean_model_ms", sum_model_ms / n}};
    if (options.method == ClusterMethod::online) {
        overall["n_routed"] = n_routed;
        overall["n_llm"] = n_llm;
        overall["route_ms_per_turn"] = n_routed ? sum_route_ms / static_cast<double>(n_routed) : 0;
    }
    if (options.detect_synthesis && detects_synthesis(options.method)) {
        overall["synthesis_detection"] = {
            {"true_positives", tp},
            {"false_positives", fp},
            {"false_negatives", fn},
            {"precision", tp + fp ? static_cast<double>(tp) / (tp + fp) : 1.0},
            {"recall", tp + fn ? static_cast<double>(tp) / (tp + fn) : 1.0}};
    }
    if (args.json_out) {
        json j = {{"method", args.cluster.method},
                  {"parameters", cluster_parameters(args.cluster)},
                  {"model", model ? model->info().path.filename().string() : ""},
                  {"examples", out_examples},
                  {"overall", overall}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "method " << args.cluster.method;
        for (const auto& [k, v] : cluster_parameters(args.cluster)) {
            std::cout << ", " << k << " " << (v.empty() ? "\"\"" : v);
        }
        if (model) std::cout << ", model " << model->info().path.filename().string();
        std::cout << "\n" << text.str();
        std::snprintf(line, sizeof line,
                      "overall (%zu examples): mean ARI %.3f, mean NMI %.3f, %.0f ms per "
                      "example\n",
                      examples.size(), sum_ari / n, sum_nmi / n, sum_ms / n);
        std::cout << line;
        if (overall.contains("route_ms_per_turn")) {
            std::snprintf(line, sizeof line,
                          "routed %lld user turns one by one: %.1f ms per turn (route + "
                          "commit), %lld decided by the llm\n",
                          static_cast<long long>(n_routed),
                          overall["route_ms_per_turn"].get<double>(),
                          static_cast<long long>(n_llm));
            std::cout << line;
        }
        if (overall.contains("synthesis_detection")) {
            std::snprintf(line, sizeof line,
                          "synthesis turns: %d found of %d, %d false (precision %.3f, recall "
                          "%.3f)\n",
                          tp, tp + fn, fp,
                          overall["synthesis_detection"]["precision"].get<double>(),
                          overall["synthesis_detection"]["recall"].get<double>());
            std::cout << line;
        }
    }
    if (n_invalid > 0) {
        std::cerr << "rdic: " << n_invalid << " dataset files invalid\n";
        return 1;
    }
    return 0;
}

}  // namespace

Action add_cluster(CLI::App& app) {
    auto args = std::make_shared<ClusterCmdArgs>();
    app.add_option("--data", args->data, "Dataset files or directories (default: data/test)");
    app.add_option("--model", args->model,
                   "GGUF for the embedding/llm methods (default: the cached default model)");
    app.add_flag("--json", args->json_out, "One JSON object on stdout instead of the table");
    app.add_option("--dump-embeddings", args->dump_embeddings,
                   "Write each embedded turn's vector to this JSON-lines file (analysis)");
    app.add_option("--n-gpu-layers", args->n_gpu_layers, "Layers to offload (-1 = all)");
    add_threads_option(app, args->n_threads);
    add_cluster_options(app, args->cluster, "--method");
    return [args] { return run_cluster(*args); };
}

}  // namespace rdic::cli
