// Reference similarity of an output to its reference text: ROUGE-1/2/L, BLEU and chrF, computed
// as the reference implementations compute them with their defaults (rouge-score 0.1.2,
// sacreBLEU 2.6.0). Pure functions of text; no model.
//
//   rdic::RougeScores r = rdic::rouge(output, reference);  // r.rouge2.f1, r.rougeL.recall (0-1)
//   double bleu = rdic::sentence_bleu(output, reference);   // 0-100, sacrebleu.sentence_bleu
//   double chrf = rdic::sentence_chrf(output, reference);   // 0-100, sacrebleu.sentence_chrf
//   rdic::BleuStats corpus;                                 // corpus level: sum per-pair stats
//   for (size_t i = 0; i < outputs.size(); ++i) corpus += rdic::bleu_stats(outputs[i], refs[i]);
//   std::cout << rdic::format_bleu(rdic::bleu_from_stats(corpus, rdic::BleuLevel::corpus));
//   // BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 47.98 66.7/51.4/...
//
// Exactness: on the checked-in fixtures (tests/data/similarity_fixtures.json, written by
// tools/make_similarity_fixtures.py) every score equals the reference implementation's. Texts are
// UTF-8; ill-formed UTF-8 is not an error: each byte of an ill-formed sequence is one character
// that is neither a letter, a digit nor whitespace (what Python sees after decoding with
// errors="surrogateescape"). One reference per hypothesis (sacreBLEU's nrefs:1).
//
// All functions are pure and thread-safe; none throws except corpus_* on mismatched sizes.
// Cost: linear in the text length, except ROUGE-L (LCS: O(n_hyp * n_ref) time, O(n_ref) memory).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rdic {

// ---- ROUGE (rouge-score: RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=False)) -----

struct PrecisionRecallF {
    double precision = 0;  // matches / hypothesis n-grams (LCS length / hypothesis tokens)
    double recall = 0;     // matches / reference n-grams (LCS length / reference tokens)
    double f1 = 0;         // 2PR / (P + R); 0 when P + R == 0
};

struct RougeScores {
    PrecisionRecallF rouge1;  // unigram overlap (clipped counts)
    PrecisionRecallF rouge2;  // bigram overlap (clipped counts)
    PrecisionRecallF rougeL;  // longest common subsequence of tokens
};

// rouge-score's default tokenizer: Python str.lower() (which maps U+0130 'İ' to "i" plus a
// combining dot and U+212A KELVIN SIGN to "k"), every run of characters other than ASCII a-z 0-9
// is a separator, no stemming. Non-ASCII letters are therefore separators: "café" -> "caf".
std::vector<std::string> rouge_tokens(std::string_view text);

// All scores are 0 when either text has no tokens.
RougeScores rouge(std::string_view hypothesis, std::string_view reference);

// ---- BLEU (sacreBLEU: 13a tokenizer, exponential smoothing, 4-grams, one reference) ---------

constexpr int kBleuMaxOrder = 4;

// sentence: sacrebleu.sentence_bleu's defaults (effective order: orders with no hypothesis
//           n-grams are left out of the geometric mean).
// corpus:   sacrebleu.corpus_bleu's defaults (always 4 orders).
enum class BleuLevel { sentence, corpus };

// Sufficient statistics of one or more pairs; sum them (+=) to score a corpus.
struct BleuStats {
    int64_t hyp_len = 0;                           // hypothesis tokens
    int64_t ref_len = 0;                           // reference tokens
    std::array<int64_t, kBleuMaxOrder> correct{};  // clipped n-gram matches, n = 1..4
    std::array<int64_t, kBleuMaxOrder> total{};    // hypothesis n-grams, n = 1..4

    BleuStats& operator+=(const BleuStats& other);
};

struct BleuScore {
    double score = 0;                                // 0-100
    std::array<double, kBleuMaxOrder> precisions{};  // 0-100, smoothed, n = 1..4
    double brevity_penalty = 0;  // 1 when hyp_len >= ref_len; 0 for an empty hyp, non-empty ref
    BleuStats stats;
    BleuLevel level = BleuLevel::sentence;
};

// sacreBLEU's preprocessing of one segment: trailing whitespace stripped (Python str.rstrip),
// then the 13a tokenizer (mteval-v13a: "<skipped>" removed, "-\n" joined, newlines to spaces,
// &quot; &amp; &lt; &gt; unescaped, punctuation and symbols split off, '.' and ',' split off
// unless next to a digit, '-' after a digit split off). Tokens joined by one space.
std::string tokenize_13a(std::string_view text);

BleuStats bleu_stats(std::string_view hypothesis, std::string_view reference);
BleuScore bleu_from_stats(const BleuStats& stats, BleuLevel level);

// sacrebleu.sentence_bleu(hypothesis, [reference]).score
double sentence_bleu(std::string_view hypothesis, std::string_view reference);

// sacrebleu.corpus_bleu(hypotheses, [references]).score. Throws Error(invalid_argument) when the
// sizes differ; an empty corpus scores 0.
double corpus_bleu(std::span<const std::string> hypotheses,
                   std::span<const std::string> references);

// sacreBLEU's signature for the level's settings, e.g.
// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0" (eff:yes for sentence).
std::string bleu_signature(BleuLevel level);

// sacreBLEU's score line: "BLEU|<signature> = 47.98 66.7/51.4/42.0/36.8 (BP = 1.000
// ratio = 1.036 hyp_len = 51609 ref_len = 49816)".
std::string format_bleu(const BleuScore& score);

// ---- chrF (sacreBLEU CHRF defaults: character 6-grams, no word n-grams, beta 2) --------------

constexpr int kChrfCharOrder = 6;
constexpr int kChrfBeta = 2;

// Per character n-gram order (n = 1..6): hypothesis n-grams (0 when the reference has none of
// that order), reference n-grams, clipped matches. Characters are Unicode code points;
// whitespace (Python's str.split() set) is removed before n-grams are taken. Sum to score a corpus.
struct ChrfStats {
    std::array<int64_t, kChrfCharOrder> hyp{};
    std::array<int64_t, kChrfCharOrder> ref{};
    std::array<int64_t, kChrfCharOrder> match{};

    ChrfStats& operator+=(const ChrfStats& other);
};

ChrfStats chrf_stats(std::string_view hypothesis, std::string_view reference);

// 0-100: F-beta of the precision and recall averaged over the orders where both texts have
// n-grams (sacreBLEU's "effective order"); 0 when there is no such order.
double chrf_from_stats(const ChrfStats& stats);

// sacrebleu.sentence_chrf(hypothesis, [reference]).score
double sentence_chrf(std::string_view hypothesis, std::string_view reference);

// sacrebleu.corpus_chrf(hypotheses, [references]).score. Throws Error(invalid_argument) when the
// sizes differ; an empty corpus scores 0.
double corpus_chrf(std::span<const std::string> hypotheses,
                   std::span<const std::string> references);

// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
std::string chrf_signature();

// sacreBLEU's score line: "chrF2|<signature> = 68.10".
std::string format_chrf(double score);

}  // namespace rdic
