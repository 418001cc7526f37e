// Clustering an example's turns with a model: the methods behind `rdic cluster` and
// `rdic run --clusters METHOD`.
//
//   rdic::TurnClusterer c(model, {.method = rdic::ClusterMethod::embedding});
//   rdic::ClusteringResult r = c.cluster(example);       // r.assignment: one value per turn
//   rdic::Example discovered = rdic::recluster(example, r.assignment).example;
//   std::cout << r.ari << " " << r.nmi << "\n";          // against the example's labels
//
// Methods:
//   labels      the example's own clusters (ARI = NMI = 1).
//   embedding   synthesis turns detected (synthesis_detector.h); every other turn embedded with
//               the model's pooled hidden state (Session::embed), cosine distances, average-
//               linkage agglomerative clustering (agglomerative.h) cut at k (given, the labels'
//               count, or chosen by silhouette in [2, k_max]).
//   lexical     as embedding, but each turn is a TF-IDF word vector of the example's turns
//               (lexical.h): no model, the baseline the model embeddings should beat.
//   online      each turn routed one at a time in conversation order by a TurnRouter
//               (turn_router.h; ClusterOptions::routing picks centroid, instruct, lexical,
//               hybrid, llm or hybrid-llm): what a server sees, no look-ahead. As a server: a
//               user turn is routed and committed; an assistant turn is the answer to the turn
//               before it and joins that turn's topic without routing.
//   llm         the model reads the numbered turns and answers one topic letter per turn, then a
//               name per letter, each answer constrained by a GBNF grammar so it always parses.
//   random      control: the labels shuffled over the turns (seeded, same cluster sizes).
//   positional  control: contiguous blocks, as many as the example has labelled clusters.
// Synthesis turns get kSynthesisCluster in embedding, lexical, online and llm (unless detection is
// off).
//
// Thread-safety: one TurnClusterer per thread (it owns llama contexts). Failure: engine errors
// propagate as rdic::Error; an example with no turns gives an empty assignment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/clustering/synthesis_detector.h"
#include "rdic/clustering/turn_router.h"
#include "rdic/datasets/example.h"
#include "rdic/engine/embedder.h"
#include "rdic/engine/model.h"
#include "rdic/engine/session.h"

namespace rdic {

enum class ClusterMethod { labels, embedding, online, llm, random, positional, lexical };
std::string_view to_string(ClusterMethod m);
// Throws invalid_argument naming the unknown method and the valid ones.
ClusterMethod parse_cluster_method(std::string_view name);
// embedding, online and llm run a model; labels, random, positional and lexical do not.
bool needs_model(ClusterMethod m);
// The methods that discover clusters (embedding, online, llm, lexical) first set synthesis turns
// apart with the rule-based detector (ClusterOptions::detect_synthesis).
bool detects_synthesis(ClusterMethod m);

struct TurnEmbeddingOptions {
    Pooling pooling = Pooling::mean;
    // Text around each turn before embedding; "{text}" is replaced by the turn ("" = the turn
    // alone). E.g. "This message: \"{text}\" is about the topic of" with last-token pooling.
    std::string template_text;
    // Subtract the mean of the example's turn vectors before the cosine distances (embedding
    // method only): removes the direction every hidden state of a small LM shares (mean pairwise
    // cosine 0.85 between turns of Gemma 3 270M); ARI 0.40 -> 0.50 on the dev split.
    bool center = true;
    int32_t max_tokens = 512;  // a longer turn is cut to its first max_tokens tokens
};

struct ClusterOptions {
    ClusterMethod method = ClusterMethod::labels;
    int32_t k = 0;               // topic clusters; 0 = choose (silhouette / the model decides)
    bool k_from_labels = false;  // use the example's labelled topic count (an oracle k)
    int32_t k_max = 8;           // largest k tried by the silhouette, most letters for llm
    TurnEmbeddingOptions embedding;
    // online method: the router. Its embedding options are taken from `embedding` (pooling,
    // template, max_tokens) and n_threads from `n_threads`.
    TurnRouterOptions routing;
    uint64_t seed = 1;             // random control
    bool detect_synthesis = true;  // embedding, online, llm
    int32_t n_threads = 0;         // CPU threads for the model's contexts; 0 = all
    bool keep_embeddings = false;  // return the turn vectors in the result (analysis)
};

struct ClusteringResult {
    ClusterMethod method = ClusterMethod::labels;
    std::vector<int32_t> assignment;       // one value per turn (assignment.h conventions)
    std::vector<SynthesisCue> synthesis;   // per turn, when detection ran
    std::vector<std::string> topic_names;  // llm: name per topic value (index = value)
    int32_t k = 0;                         // topic clusters found (synthesis not counted)
    double silhouette = 0;                 // embedding: of the chosen cut
    double ari = 1, nmi = 1;               // against the example's labels
    double embed_ms = 0;                   // model time (embedding / llm generation)
    double total_ms = 0;                   // everything, embedding included
    double route_ms = 0;                   // online: route() + commit() of the routed turns
    int32_t n_routed = 0;                  // online: turns routed (user turns, not synthesis)
    int32_t n_llm = 0;                     // online: of those, decided by the llm
    std::vector<TopicChoice> choices;      // online: per routed turn, in order
    std::vector<size_t> routed_turns;      // online: the index in example.turns of each
    // With options.keep_embeddings: the vector of each embedded turn (before centering) and
    // that turn's index in example.turns.
    std::vector<std::vector<float>> embeddings;
    std::vector<size_t> embedded_turns;
};

class TurnClusterer {
public:
    // `model` embeds turns (embedding, online) or answers (llm); unused by the other methods
    // (may be null for them). Throws invalid_argument for a bad option.
    TurnClusterer(std::shared_ptr<const Model> model, const ClusterOptions& options);
    ~TurnClusterer();
    TurnClusterer(const TurnClusterer&) = delete;
    TurnClusterer& operator=(const TurnClusterer&) = delete;

    ClusteringResult cluster(const Example& example);

    // Pooled, L2-normalised embedding of each text under options.embedding (no centering).
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts);

private:
    void cluster_embedding(const Example& ex, ClusteringResult& r);
    void cluster_llm(const Example& ex, ClusteringResult& r);
    void cluster_online(const Example& ex, ClusteringResult& r);
    TurnRouterOptions routing_options() const;
    std::shared_ptr<const Model> model_;
    ClusterOptions options_;
    std::unique_ptr<Embedder> embedder_;           // created on first use
    std::shared_ptr<RouterShared> router_shared_;  // online: created on first use
};

}  // namespace rdic
