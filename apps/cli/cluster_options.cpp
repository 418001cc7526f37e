#include "cluster_options.h"

#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli_common.h"
#include "rdic/clustering/assignment.h"

namespace rdic::cli {

namespace {

std::string fmt(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

}  // namespace

void add_cluster_options(CLI::App& app, ClusterArgs& a, const std::string& method_flag) {
    app.add_option(
        method_flag, a.method,
        "Clustering: labels, embedding, lexical, online, llm, random, positional (default "
        "labels)");
    app.add_option("--embed-model", a.embed_model,
                   "GGUF for turn embeddings (default: the generation model)");
    app.add_option("--k", a.k, "Topic clusters (0 = choose by silhouette / let the model decide)")
        ->check(CLI::Range(0, 26));
    app.add_flag("--k-from-labels", a.k_from_labels,
                 "Use the labelled number of topics (an oracle k, for analysis)");
    app.add_option("--k-max", a.k_max, "Largest k the silhouette tries")->check(CLI::Range(2, 26));
    app.add_option("--pooling", a.pooling, "Embedding pooling: mean or last");
    app.add_option("--embed-template", a.embed_template,
                   "Text around each turn before embedding; {text} is the turn");
    app.add_flag("--no-center", a.no_center,
                 "Embedding: keep raw vectors (default: subtract the example's mean turn vector)");
    app.add_option("--threshold", a.threshold,
                   "Online: open a new topic beyond this cosine distance (0 = the router's "
                   "default)")
        ->check(CLI::Range(0.0, 2.0));
    app.add_option("--router", a.router,
                   "Online: centroid, instruct, lexical, hybrid, llm, hybrid-llm, pair (default "
                   "centroid; docs/routing.md)");
    app.add_option("--lexical-weight", a.lexical_weight,
                   "Online hybrid: weight of the lexical similarity (0 = default)")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--llm-margin", a.llm_margin,
                   "Online hybrid-llm: ask the llm below this margin (0 = default)")
        ->check(CLI::Range(0.0, 2.0));
    app.add_option("--recency", a.recency,
                   "Online: similarity bonus of the previous message's topic (-1 = the router's "
                   "default, 0 = off)")
        ->check(CLI::Range(-1.0, 1.0));
    app.add_option("--shift-cues", a.shift_cues,
                   "Online: 1 = a message starting with a topic-shift cue opens a topic, 0 = off, "
                   "-1 = the router's default")
        ->check(CLI::Range(-1, 1));
    app.add_option("--mean-link", a.mean_link,
                   "Online: embedding similarity with a topic = 1 the mean cosine with its "
                   "messages, 0 the cosine with their centroid, -1 the router's default")
        ->check(CLI::Range(-1, 1));
    app.add_option("--shift-llm", a.shift_llm,
                   "Online: ask the llm whether each message starts a new matter; p(yes) >= this "
                   "opens a topic (0 = off)")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--shift-llm-context", a.shift_llm_context,
                   "Online, with --shift-llm: 1 = the question lists the conversation's earlier "
                   "messages, 0 = the message alone")
        ->check(CLI::Range(0, 1));
    app.add_option("--opening-probe", a.opening_probe,
                   "Online, instruct/hybrid/hybrid-llm: an opening probe file "
                   "(tools/opening_probe.py save; docs/routing.md); p >= its threshold opens a "
                   "topic like a cue");
    app.add_option("--opening-probe-threshold", a.opening_probe_threshold,
                   "Online: the opening probe's threshold instead of the file's (0 = the file's)")
        ->check(CLI::Range(0.0, 0.999999));
    app.add_option("--cluster-seed", a.seed, "Seed of the random control");
    app.add_flag("--no-synthesis-detection", a.no_synthesis,
                 "Cluster synthesis requests with the topics instead of detecting them");
}

ClusterOptions to_cluster_options(const ClusterArgs& a, int32_t n_threads) {
    ClusterOptions o;
    o.method = parse_cluster_method(a.method);
    o.k = a.k;
    o.k_from_labels = a.k_from_labels;
    o.k_max = a.k_max;
    if (a.pooling == "mean")
        o.embedding.pooling = Pooling::mean;
    else if (a.pooling == "last")
        o.embedding.pooling = Pooling::last;
    else
        throw Error(ErrorCode::invalid_argument,
                    "--pooling: '" + a.pooling + "' is not mean or last");
    o.embedding.template_text = a.embed_template;
    o.embedding.center = !a.no_center;
    o.routing.method = std::string(to_string(parse_router_method(a.router)));
    o.routing.threshold = a.threshold > 0 ? 1 - a.threshold : 0;
    o.routing.lexical_weight = a.lexical_weight;
    o.routing.llm_margin = a.llm_margin;
    o.routing.recency = a.recency;
    o.routing.shift_cues = a.shift_cues;
    o.routing.mean_link = a.mean_link;
    o.routing.shift_llm = a.shift_llm;
    o.routing.shift_llm_context = a.shift_llm_context;
    if (!a.opening_probe.empty()) {
        if (o.method != ClusterMethod::online) {
            throw Error(ErrorCode::invalid_argument, "--opening-probe needs --method online");
        }
        o.routing.opening_probe =
            std::make_shared<const OpeningProbe>(read_opening_probe(a.opening_probe));
    }
    o.routing.opening_probe_threshold = a.opening_probe_threshold;
    o.seed = a.seed;
    o.detect_synthesis = !a.no_synthesis;
    o.n_threads = n_threads;
    return o;
}

std::map<std::string, std::string> cluster_parameters(const ClusterArgs& a) {
    const ClusterOptions o = to_cluster_options(a, 0);
    std::map<std::string, std::string> p;
    switch (o.method) {
        case ClusterMethod::labels:
            break;
        case ClusterMethod::random:
            p["seed"] = std::to_string(a.seed);
            break;
        case ClusterMethod::positional:
            p["blocks"] = "labelled cluster count";
            break;
        case ClusterMethod::embedding:
        case ClusterMethod::lexical:
        case ClusterMethod::online:
        case ClusterMethod::llm:
            p["k"] = a.k_from_labels ? "labels" : a.k == 0 ? "auto" : std::to_string(a.k);
            p["synthesis_detection"] = a.no_synthesis ? "off" : "rules";
            if (o.method == ClusterMethod::embedding || o.method == ClusterMethod::online) {
                p["embed_model"] = a.embed_model.empty() ? "generation model" : a.embed_model;
                p["pooling"] = a.pooling;
                p["template"] = a.embed_template;
                if (o.method == ClusterMethod::embedding)
                    p["center"] = a.no_center ? "false" : "true";
            }
            if (o.method == ClusterMethod::embedding || o.method == ClusterMethod::lexical) {
                p["linkage"] = "average";
                p["k_max"] = std::to_string(a.k_max);
            }
            if (o.method == ClusterMethod::online) {
                TurnRouterOptions r = o.routing;
                r.embedding.pooling = o.embedding.pooling;
                r.embedding.template_text = o.embedding.template_text;
                r = resolved(r);
                p["router"] = r.method;
                p["threshold"] = fmt(1 - r.threshold);
                const RouterMethod m = parse_router_method(r.method);
                if (m == RouterMethod::llm) p.erase("threshold");
                if (m == RouterMethod::lexical || m == RouterMethod::llm ||
                    m == RouterMethod::pair) {
                    if (m == RouterMethod::lexical) p.erase("embed_model");
                    if (m == RouterMethod::pair) {
                        p["pair_tokens"] = std::to_string(r.pair_tokens);
                        p["pair_window"] = std::to_string(r.pair_window);
                    }
                    p.erase("pooling");
                    p.erase("template");
                } else {
                    p["pooling"] = r.embedding.pooling == Pooling::last ? "last" : "mean";
                    p["template"] = r.embedding.template_text;
                    p["embedding_link"] = r.mean_link == 1 ? "mean" : "centroid";
                }
                if (r.opening_probe) {
                    p["opening_probe"] = a.opening_probe;
                    p["opening_probe_threshold"] = fmt(r.opening_probe_threshold);
                }
                if (m != RouterMethod::llm) {
                    if (r.shift_llm > 0) p["shift_llm"] = fmt(r.shift_llm);
                    if (r.shift_llm > 0 && r.shift_llm_context == 1) p["shift_llm_context"] = "on";
                    p["recency"] = fmt(r.recency);
                    p["shift_cues"] = r.shift_cues == 1 ? "on" : "off";
                }
                if (m == RouterMethod::hybrid || m == RouterMethod::hybrid_llm)
                    p["lexical_weight"] = fmt(r.lexical_weight);
                if (m == RouterMethod::hybrid_llm) p["llm_margin"] = fmt(r.llm_margin);
                if (m == RouterMethod::llm || m == RouterMethod::hybrid_llm)
                    p["llm_turn_tokens"] = std::to_string(r.llm_turn_tokens);
            }
            break;
    }
    return p;
}

std::shared_ptr<const Model> clustering_model(const ClusterArgs& a,
                                              std::shared_ptr<const Model> generation,
                                              const std::string& model_flag, int32_t n_gpu_layers) {
    const ClusterMethod m = parse_cluster_method(a.method);
    if (!needs_model(m)) return nullptr;
    if (m == ClusterMethod::online && !router_needs_model(parse_router_method(a.router)) &&
        a.shift_llm == 0)
        return nullptr;
    if (m != ClusterMethod::llm && !a.embed_model.empty()) {
        return Model::load({.path = a.embed_model, .n_gpu_layers = n_gpu_layers});
    }
    return generation ? generation : load_model(model_flag, n_gpu_layers);
}

std::map<std::string, ClusteringRecord> apply_clustering(const ClusterArgs& args,
                                                         std::shared_ptr<const Model> generation,
                                                         int32_t n_gpu_layers, int32_t n_threads,
                                                         std::vector<Example>& examples) {
    const ClusterOptions options = to_cluster_options(args, n_threads);
    TurnClusterer clusterer(clustering_model(args, generation, "", n_gpu_layers), options);
    std::map<std::string, ClusteringRecord> out;
    const std::map<std::string, std::string> parameters = cluster_parameters(args);
    double sum_ari = 0, sum_nmi = 0;
    for (Example& ex : examples) {
        const ClusteringResult r = clusterer.cluster(ex);
        ClusteringRecord rec;
        rec.method = args.method;
        rec.parameters = parameters;
        rec.ari = r.ari;
        rec.nmi = r.nmi;
        rec.k = r.k;
        rec.time_ms = r.total_ms;
        if (options.method != ClusterMethod::labels) ex = recluster(ex, r.assignment).example;
        for (const Turn& t : ex.turns) rec.assignment.emplace_back(t.id, t.cluster);
        sum_ari += r.ari;
        sum_nmi += r.nmi;
        if (options.method != ClusterMethod::labels) {
            char line[160];
            std::snprintf(line, sizeof line, "rdic: clusters %s %s: k %d, ARI %.3f, NMI %.3f\n",
                          args.method.c_str(), ex.id.c_str(), r.k, r.ari, r.nmi);
            std::cerr << line;
        }
        out[ex.id] = std::move(rec);
    }
    if (!examples.empty() && options.method != ClusterMethod::labels) {
        const double n = static_cast<double>(examples.size());
        char line[160];
        std::snprintf(line, sizeof line, "rdic: clusters %s: mean ARI %.3f, mean NMI %.3f\n",
                      args.method.c_str(), sum_ari / n, sum_nmi / n);
        std::cerr << line;
    }
    return out;
}

}  // namespace rdic::cli
