// Clustering options shared by `rdic cluster` (--method) and `rdic run` (--clusters), and the
// one call `rdic run` makes to re-cluster its examples.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "rdic/clustering/methods.h"
#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"
#include "rdic/reporting/results.h"

namespace rdic::cli {

struct ClusterArgs {
    std::string method = "labels";
    std::string embed_model;  // GGUF for embeddings; "" = the generation model
    int32_t k = 0;
    bool k_from_labels = false;
    int32_t k_max = 8;
    std::string pooling = "mean";
    std::string embed_template;
    bool no_center = false;
    double threshold = 0;             // online: new-topic cosine distance; 0 = the router's default
    std::string router = "centroid";  // online: the TurnRouter method
    double lexical_weight = 0;        // online hybrid: 0 = default
    double llm_margin = 0;            // online hybrid-llm: 0 = default
    double recency = -1;              // online: bonus of the previous topic; < 0 = default
    int32_t shift_cues = -1;          // online: topic-shift cues open topics; -1 = default
    int32_t mean_link = -1;           // online: 1 = mean cosine with a topic's messages
    double shift_llm = 0;             // online: llm new-matter probability that opens; 0 = off
    int32_t shift_llm_context = 0;    // online: 1 = the question lists the earlier messages
    std::string opening_probe;        // online: an opening probe file ("" = none)
    double opening_probe_threshold = 0;  // online: overrides the probe's threshold; 0 = its own
    uint64_t seed = 1;
    bool no_synthesis = false;
};

// Registers --METHOD_FLAG and the method's options on `app`.
void add_cluster_options(CLI::App& app, ClusterArgs& args, const std::string& method_flag);

// Options for TurnClusterer; throws invalid_argument for a bad method or pooling name.
ClusterOptions to_cluster_options(const ClusterArgs& args, int32_t n_threads);

// The options that matter for the method, as strings (for records and config.json).
std::map<std::string, std::string> cluster_parameters(const ClusterArgs& args);

// The model a method needs: null for labels/random/positional, --embed-model when given for
// embedding/online, else `generation` (loaded from `model_flag` when null).
std::shared_ptr<const Model> clustering_model(const ClusterArgs& args,
                                              std::shared_ptr<const Model> generation,
                                              const std::string& model_flag, int32_t n_gpu_layers);

// `rdic run --clusters METHOD`: clusters every example, replaces it by its re-clustered version
// (recluster(); unchanged for labels) and returns per example id what was used. Prints one line
// per example and the mean ARI/NMI on stderr.
std::map<std::string, ClusteringRecord> apply_clustering(const ClusterArgs& args,
                                                         std::shared_ptr<const Model> generation,
                                                         int32_t n_gpu_layers, int32_t n_threads,
                                                         std::vector<Example>& examples);

}  // namespace rdic::cli
