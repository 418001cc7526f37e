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
// condition that produced it. Its reply is constrained to one JSON object of integers 1-5
// (Judge::grammar), so it always parses. Two decoders give replies in that grammar:
//   template (default): the grammar is a fixed text with one digit slot per criterion, so its
//     literal parts are appended as tokens and each digit is the most likely of the five digit
//     tokens: a few batched decode calls per item, and the probabilities of the five scores
//     (their expectation is recorded too);
//   gbnf: greedy sampling under the GBNF grammar (llama.cpp's grammar sampler), token by token;
//     the model may then spell the literal parts with other tokens. Far slower on large
//     vocabularies; kept to cross-check the template decoder.
// Greedy either way, so a score depends only on the prompt (and, through floating-point batch
// shape effects, on the batch neighbours; see docs/engine.md). The caller shuffles items with a
// seed (the evaluation presents outputs in seeded random order) and records kJudgePromptVersion
// and the judge model with every score.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rdic/engine/embedder.h"  // Embedder and cosine, used with the metrics
#include "rdic/engine/model.h"

namespace rdic {

inline constexpr const char* kJudgePromptVersion = "judge/v1";

struct JudgeItem {
    std::string task{};                       // what the output was asked to be
    std::string topic{};                      // its topic's name ("" for a synthesis)
    std::vector<std::string> other_topics{};  // topics it must not discuss (topic outputs)
    std::vector<std::string> inputs{};        // topics it must integrate (synthesis outputs)
    bool synthesis = false;
    std::string output{};
};

struct JudgeScores {
    // 1-5; 0 where the criterion does not apply (focus for a synthesis, integration for a topic).
    int relevance = 0, focus = 0, coherence = 0, integration = 0;
    // Template decoder: the expected score under the judge's probabilities of the five digits
    // (0 where the criterion does not apply, or with the gbnf decoder).
    double expected_relevance = 0, expected_focus = 0, expected_coherence = 0,
           expected_integration = 0;
    std::string raw;  // the judge's reply
    int32_t n_prompt_tokens = 0;
    bool output_truncated = false;  // the output was cut to fit the judge's context
};

enum class JudgeDecoder { template_digits, gbnf };

struct JudgeOptions {
    JudgeDecoder decoder = JudgeDecoder::template_digits;
    int32_t batch = 8;                 // items judged together (one lockstep generate)
    int32_t max_output_tokens = 1024;  // longer outputs are cut (and flagged)
    int32_t n_threads = 0;
    std::string chat_template{};  // "" = the model's (or its architecture default)
    // Judge on an OpenAI-compatible engine instead (the gbnf decoder over HTTP): the prompts,
    // built with the local model's tokenizer and template, go to remote_url's /v1/completions
    // with Judge::grammar in llama-server's "grammar" field, greedy; expected_* stay 0. The
    // engine must serve the same model (token ids are sent). Throws upstream_failure when the
    // engine fails after the retries.
    std::string remote_url{};
    std::string remote_api_key{};
    std::string remote_model{};  // the "model" field; "" = the GGUF's file name
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
    void score_gbnf(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                    std::span<JudgeScores> scores, class Session& session,
                    const std::vector<std::string>& stop);
    void score_remote(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                      std::span<JudgeScores> scores, const std::vector<std::string>& stop);
    void score_template(std::span<const JudgeItem> items, std::span<const Tokens> prompts,
                        std::span<JudgeScores> scores, class Session& session);
    std::shared_ptr<const Model> model_;
    JudgeOptions options_;
};

}  // namespace rdic
