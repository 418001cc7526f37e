#include "rdic/records/metric_catalog.h"

namespace rdic {

namespace {

constexpr double kInf = 1e300;
using T = MetricTake;
constexpr const char* kC = "contamination/v1";
constexpr const char* kS = "similarity/v1";
constexpr const char* kE = "embedding/v1";
constexpr const char* kJ = "judge/v1";
constexpr const char* kQ = "questions/v1";

// Display order. Judge scores are 1-5 (0: the judge gave none); E[...] are expectations over the
// judge's distribution.
const std::vector<MetricDef> kCatalog = {
    // id, label, group, lower is better, decimals, set, field, required, take, lo, hi, only if
    {"topic.foreign_per_100_words", "Foreign terms / 100 words", "contamination", true, 2, kC,
     "foreign_per_100_words", true, T::value, 0, kInf, ""},
    {"topic.foreign_share", "Foreign share of term hits", "contamination", true, 3, kC,
     "foreign_share", true, T::value, 0, 1, ""},
    {"topic.leaked_canaries", "Canary leaks / topic output", "contamination", true, 2, kC,
     "leaked_canaries", true, T::count, 0, 0, ""},
    {"topic.leaking_output", "Topic outputs leaking a canary", "contamination", true, 3, kC,
     "leaked_canaries", true, T::nonempty, 0, 0, ""},
    {"topic.own_term_coverage", "Own-term coverage", "contamination", false, 3, kC,
     "own_term_coverage", true, T::value, 0, 1, ""},
    {"topic.rouge1", "ROUGE-1 F1 (topic)", "similarity", false, 3, kS, "rouge1", true, T::value, 0,
     1, ""},
    {"topic.rouge2", "ROUGE-2 F1 (topic)", "similarity", false, 3, kS, "rouge2", true, T::value, 0,
     1, ""},
    {"topic.rougeL", "ROUGE-L F1 (topic)", "similarity", false, 3, kS, "rougeL", true, T::value, 0,
     1, ""},
    {"topic.bleu", "BLEU (topic)", "similarity", false, 2, kS, "bleu", true, T::value, 0, 100, ""},
    {"topic.chrf", "chrF (topic)", "similarity", false, 2, kS, "chrf", true, T::value, 0, 100, ""},
    {"topic.embed_cosine", "Embedding cosine (topic)", "similarity", false, 3, kE, "cosine", true,
     T::value, -1, 1, ""},
    {"topic.judge_relevance", "Judge relevance (topic)", "judge", false, 2, kJ, "relevance", true,
     T::value, 0, 5, ""},
    {"topic.judge_focus", "Judge focus (topic)", "judge", false, 2, kJ, "focus", false, T::value, 0,
     5, ""},
    {"topic.judge_coherence", "Judge coherence (topic)", "judge", false, 2, kJ, "coherence", true,
     T::value, 0, 5, ""},
    {"topic.judge_expected_relevance", "Judge E[relevance] (topic)", "judge", false, 2, kJ,
     "expected_relevance", false, T::value, 0, 5, ""},
    {"topic.judge_expected_focus", "Judge E[focus] (topic)", "judge", false, 2, kJ,
     "expected_focus", false, T::value, 0, 5, ""},
    {"topic.judge_expected_coherence", "Judge E[coherence] (topic)", "judge", false, 2, kJ,
     "expected_coherence", false, T::value, 0, 5, ""},
    {"question.correct", "Question accuracy", "questions", false, 3, kQ, "correct", true, T::flag,
     0, 1, ""},
    {"question.lure", "Lure rate (questions with a lure)", "questions", true, 3, kQ, "lure", true,
     T::flag, 0, 1, "has_lure"},
    {"question.has_lure", "", "questions", false, 0, kQ, "has_lure", true, T::none, 0, 1, ""},
    {"question.abstained", "Questions abstained", "questions", false, 3, kQ, "abstained", true,
     T::flag, 0, 1, ""},
    {"cross.correct", "Cross-topic question accuracy", "questions", false, 3, kQ, "correct", true,
     T::flag, 0, 1, ""},
    {"topic.copy_share", "Copy share of own prompt (topic)", "copy", true, 3, kC,
     "prompt_copy_share", false, T::value, 0, 1, ""},
    {"synthesis.copy_share", "Copy share of own prompt (synthesis)", "copy", true, 3, kC,
     "prompt_copy_share", false, T::value, 0, 1, ""},
    {"topic.n_words", "Words (topic)", "length", false, 1, kC, "n_words", true, T::value, 0, kInf,
     ""},
    {"topic.hit_token_limit", "Topic outputs at the token limit", "length", false, 3, kC,
     "hit_token_limit", true, T::flag, 0, 1, ""},
    {"synthesis.term_coverage", "Synthesis term coverage", "contamination", false, 3, kC,
     "topic_term_coverage", true, T::mean, 0, 1, ""},
    {"synthesis.canary_coverage", "Synthesis canary coverage", "contamination", false, 3, kC,
     "topic_canary_coverage", true, T::mean, 0, 1, ""},
    {"synthesis.rouge1", "ROUGE-1 F1 (synthesis)", "similarity", false, 3, kS, "rouge1", true,
     T::value, 0, 1, ""},
    {"synthesis.rouge2", "ROUGE-2 F1 (synthesis)", "similarity", false, 3, kS, "rouge2", true,
     T::value, 0, 1, ""},
    {"synthesis.rougeL", "ROUGE-L F1 (synthesis)", "similarity", false, 3, kS, "rougeL", true,
     T::value, 0, 1, ""},
    {"synthesis.bleu", "BLEU (synthesis)", "similarity", false, 2, kS, "bleu", true, T::value, 0,
     100, ""},
    {"synthesis.chrf", "chrF (synthesis)", "similarity", false, 2, kS, "chrf", true, T::value, 0,
     100, ""},
    {"synthesis.embed_cosine", "Embedding cosine (synthesis)", "similarity", false, 3, kE, "cosine",
     true, T::value, -1, 1, ""},
    {"synthesis.judge_relevance", "Judge relevance (synthesis)", "judge", false, 2, kJ, "relevance",
     true, T::value, 0, 5, ""},
    {"synthesis.judge_coherence", "Judge coherence (synthesis)", "judge", false, 2, kJ, "coherence",
     true, T::value, 0, 5, ""},
    {"synthesis.judge_integration", "Judge integration (synthesis)", "judge", false, 2, kJ,
     "integration", false, T::value, 0, 5, ""},
    {"synthesis.judge_expected_relevance", "Judge E[relevance] (synthesis)", "judge", false, 2, kJ,
     "expected_relevance", false, T::value, 0, 5, ""},
    {"synthesis.judge_expected_coherence", "Judge E[coherence] (synthesis)", "judge", false, 2, kJ,
     "expected_coherence", false, T::value, 0, 5, ""},
    {"synthesis.judge_expected_integration", "Judge E[integration] (synthesis)", "judge", false, 2,
     kJ, "expected_integration", false, T::value, 0, 5, ""},
    {"synthesis.n_words", "Words (synthesis)", "length", false, 1, kC, "n_words", true, T::value, 0,
     kInf, ""},
    {"synthesis.hit_token_limit", "Synthesis outputs at the token limit", "length", false, 3, kC,
     "hit_token_limit", true, T::flag, 0, 1, ""},
    // From results.jsonl (per example and condition), not from metric records.
    {"example.kv_peak_mib", "Peak KV MiB", "resources", true, 3, "", "", false, T::none, 0, 0, ""},
    {"example.kv_peak_tokens", "Peak KV tokens (full layers)", "resources", true, 0, "", "", false,
     T::none, 0, 0, ""},
    {"example.total_s", "Wall time per example, s", "resources", true, 2, "", "", false, T::none, 0,
     0, ""},
    {"example.ttft_s", "Mean TTFT, s", "resources", true, 3, "", "", false, T::none, 0, 0, ""},
    {"example.prefill_tokens", "Tokens prefilled", "resources", true, 0, "", "", false, T::none, 0,
     0, ""},
};

}  // namespace

const std::vector<MetricDef>& metric_catalog() {
    return kCatalog;
}

}  // namespace rdic
