// Metrics that need a model: an LLM judge and embedding similarity.
//
//   rdic::Judge judge(judge_model, {.seed = 1});
//   std::vector<rdic::JudgeScores> s = judge.score(items);      // items in presentation order
//   s[0].relevance, s[0].focus, s[0].coherence ...              // 1-5, always parsed
//
//   rdic::Embedder emb(embed_model);
//   double sim = rdic::cosine(emb.embed(output), emb.embed(reference));
//
// The judge is blind: its prompt holds the task, the topic names and the output, never the
// condition that produced it. Its reply is constrained by a GBNF grammar to one JSON object of
// integers 1-5, so it always parses; greedy decoding, so a score depends only on the prompt (and
// on the batch neighbours through floating-point batch shape effects, see docs/engine.md). The
// caller shuffles items with a seed (the evaluation presents outputs in seeded random order) and
// records kJudgePromptVersion and the judge model with every score.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rdic/engine/model.h"

namespace rdic {

inline constexpr const char* kJudgePromptVersion = "judge/v1";

struct JudgeItem {
    std::string task;                       // what the output was asked to be
    std::string topic;                      // its topic's name ("" for a synthesis)
    std::vector<std::string> other_topics;  // topics it must not discuss (topic outputs)
    std::vector<std::string> inputs;        // topics it must integrate (synthesis outputs)
    bool synthesis = false;
    std::string output;
};

struct JudgeScores {
    // 1-5; 0 where the criterion does not apply (focus for a synthesis, integration for a topic).
    int relevance = 0, focus = 0, coherence = 0, integration = 0;
    std::string raw;          // the judge's reply
    int32_t n_prompt_tokens = 0;
    bool output_truncated = false;  // the output was cut to fit the judge's context
};

struct JudgeOptions {
    int32_t batch = 8;               // items judged together (one lockstep generate)
    int32_t max_output_tokens = 1024;  // longer outputs are cut (and flagged)
    int32_t n_threads = 0;
    std::string chat_template;  // "" = the model's (or its architecture default)
};

class Judge {
public:
    Judge(std::shared_ptr<const Model> model, const JudgeOptions& options = {});
    // Scores items in the order given. Throws only for engine failures.
    std::vector<JudgeScores> score(std::span<const JudgeItem> items);

    // The user message the judge sees for `item` (exposed for tests and docs).
    static std::string prompt(const JudgeItem& item);
    // The grammar its reply must follow.
    static std::string grammar(bool synthesis);

private:
    std::shared_ptr<const Model> model_;
    JudgeOptions options_;
};

struct EmbedderOptions {
    int32_t max_tokens = 2048;  // longer texts are cut to their first max_tokens tokens
    int32_t n_threads = 0;
};

class Embedder {
public:
    Embedder(std::shared_ptr<const Model> model, const EmbedderOptions& options = {});
    ~Embedder();
    // Mean-pooled, L2-normalised embedding of `text` (an empty text embeds as BOS alone, or a
    // single space where the vocabulary has no BOS).
    std::vector<float> embed(const std::string& text);
    int32_t n_truncated() const { return n_truncated_; }  // texts cut so far

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    EmbedderOptions options_;
    int32_t n_truncated_ = 0;
};

// Cosine similarity; 0 when either vector is zero. Throws invalid_argument on size mismatch.
double cosine(std::span<const float> a, std::span<const float> b);

}  // namespace rdic
