// An opening probe file: a linear classifier over a router's message embeddings that says whether
// a user message opens a new topic (docs/routing.md). Trained offline on labelled conversations
// of the train split by its one writer, `tools/opening_probe.py save`; read here (the one
// reader); used by the embedding routers (TurnRouterOptions::opening_probe). Plain data, no
// engine dependency.
//
//   auto probe = std::make_shared<const rdic::OpeningProbe>(rdic::read_opening_probe(file));
//   double p = rdic::opening_probability(*probe, vector);   // L2-normalised embedding
//
// The file (JSON, format "rdic.opening_probe/v1"):
//   {"format": "rdic.opening_probe/v1",
//    "model": {"name", "description", "n_params", "n_embd"},      // rdic info --json's fields
//    "embedding": {"pooling": "last", "template": "...{text}..."}, // the router's embedding
//    "threshold": 0.6,           // p >= threshold opens a topic, beside the cue rule
//    "bias": -1.2, "weights": [n_embd numbers],
//    "context": {"max_cosine": 3.1, "previous_cosine": -2.0},    // optional (below)
//    "training": {"data": "data/train", "examples": 35, "turns": 400, "openings": 70,
//                 "lambda": 0.01}}
// With "context", the score also weighs two cosines of the message's vector: the largest with
// the conversation's earlier user messages, and the one with the previous user message (a
// message that resembles nothing said so far tends to open a topic). Without it, both weigh 0.
// A probe is valid only for the vectors it was trained on: the router refuses one whose model
// or embedding differ from its own (check_opening_probe in turn_router.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rdic {

inline constexpr const char* kOpeningProbeFormat = "rdic.opening_probe/v1";

struct OpeningProbe {
    std::string file;  // where it was read from (named in errors)
    // The vectors it was trained on.
    std::string model_name;         // general.name
    std::string model_description;  // llama.cpp's description (type, size, quantisation)
    uint64_t model_n_params = 0;
    int32_t n_embd = 0;
    std::string pooling;             // "last"
    std::string embedding_template;  // the text around the message; "{text}" marks it
    // p = sigmoid(bias + weights . v) for an L2-normalised vector v; p >= threshold opens.
    double threshold = 0.5;
    double bias = 0;
    std::vector<double> weights;  // n_embd
    bool has_context = false;     // "context" present: the router passes the two cosines
    double weight_max_cosine = 0, weight_previous_cosine = 0;
    // How it was trained (reported, not used).
    std::string training_data;
    int64_t training_examples = 0, training_turns = 0, training_openings = 0;
    double training_lambda = 0;
};

// Throws Error (file_not_found, or corrupt_file naming "FILE: /pointer: reason") for a file that
// is missing, not JSON, of another format, or with a missing, mistyped or out-of-range field
// (weights must hold n_embd finite numbers; threshold in (0, 1)).
OpeningProbe read_opening_probe(const std::filesystem::path& file);

// sigmoid(bias + weights . v + weight_max_cosine * max_cosine + weight_previous_cosine *
// previous_cosine). `v` must have n_embd elements (invalid_argument otherwise); the cosines
// are those of v with the conversation's earlier user messages (ignored without context).
double opening_probability(const OpeningProbe& probe, const std::vector<float>& v,
                           double max_cosine = 0, double previous_cosine = 0);

}  // namespace rdic
