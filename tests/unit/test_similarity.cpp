// Reference similarity (ROUGE, BLEU, chrF): hand-computed answers, and agreement with rouge-score
// and sacreBLEU on the pairs in tests/data/similarity_fixtures.json
// (written by tools/make_similarity_fixtures.py; the test only reads it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/evaluation/similarity.h"

namespace rdic {
namespace {

// The brief's bound: every score within 1e-6 of the reference implementation's. No tokenisation
// difference is known, so there is no looser tolerance for any metric.
constexpr double kFixtureTolerance = 1e-6;

// ---- known answers -----------------------------------------------------------------------------

TEST(Rouge, IdenticalTextsScoreOne) {
    const RougeScores r = rouge("The plan covers three sites.", "the plan, covers three SITES");
    for (const PrecisionRecallF* s : {&r.rouge1, &r.rouge2, &r.rougeL}) {
        EXPECT_DOUBLE_EQ(s->precision, 1.0);
        EXPECT_DOUBLE_EQ(s->recall, 1.0);
        EXPECT_DOUBLE_EQ(s->f1, 1.0);
    }
}

TEST(Rouge, DisjointTextsScoreZero) {
    const RougeScores r = rouge("alpha beta gamma", "delta epsilon zeta");
    EXPECT_EQ(r.rouge1.f1, 0.0);
    EXPECT_EQ(r.rouge2.f1, 0.0);
    EXPECT_EQ(r.rougeL.f1, 0.0);
}

TEST(Rouge, HandCountedUnigramsBigramsAndLcs) {
    // hyp bigrams: the-cat cat-sat sat-on on-the the-mat; ref: the-cat cat-is is-on on-the the-mat
    // -> 3 of 5 match. Unigrams: the x2, cat, on, mat -> 5 of 6. LCS: "the cat on the mat" = 5.
    const RougeScores r = rouge("the cat sat on the mat", "the cat is on the mat");
    EXPECT_DOUBLE_EQ(r.rouge2.precision, 3.0 / 5);
    EXPECT_DOUBLE_EQ(r.rouge2.recall, 3.0 / 5);
    EXPECT_DOUBLE_EQ(r.rouge2.f1, 3.0 / 5);
    EXPECT_DOUBLE_EQ(r.rouge1.f1, 5.0 / 6);
    EXPECT_DOUBLE_EQ(r.rougeL.f1, 5.0 / 6);
}

TEST(Rouge, PrecisionIsOverTheHypothesisAndCountsAreClipped) {
    // hyp unigrams: the x4 (ref has the x2) -> 2 matches of 4; ref has 6 tokens.
    const RougeScores r = rouge("the the the the", "the cat sat on the mat");
    EXPECT_DOUBLE_EQ(r.rouge1.precision, 2.0 / 4);
    EXPECT_DOUBLE_EQ(r.rouge1.recall, 2.0 / 6);
    EXPECT_DOUBLE_EQ(r.rougeL.precision, 2.0 / 4);  // LCS "the the"
}

TEST(Rouge, EmptyTextsScoreZero) {
    for (const auto& [hyp, ref] : std::vector<std::pair<std::string, std::string>>{
             {"", "plan"}, {"plan", ""}, {"", ""}, {"... !!!", "plan"}}) {
        const RougeScores r = rouge(hyp, ref);
        EXPECT_EQ(r.rouge1.f1, 0.0) << hyp << " | " << ref;
        EXPECT_EQ(r.rougeL.precision, 0.0) << hyp << " | " << ref;
    }
}

TEST(Rouge, TokenizerIsAsciiAlphanumericLikeRougeScore) {
    // Non-ASCII letters separate tokens; Python's lower() turns 'İ' into "i" + a combining dot
    // and the Kelvin sign into 'k'.
    EXPECT_EQ(rouge_tokens("Café naïve İstanbul \u212Aelvin ÀB2c DON'T 3.5%"),
              (std::vector<std::string>{"caf", "na", "ve", "i", "stanbul", "kelvin", "b2c", "don",
                                        "t", "3", "5"}));
    EXPECT_TRUE(rouge_tokens("東京 — …").empty());
}

TEST(Tokenize13a, MatchesSacrebleuOnPunctuationNumbersAndEntities) {
    EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
    EXPECT_EQ(tokenize_13a("3.5% of $1,200 (10-12 units)."),
              "3.5 % of $ 1,200 ( 10 - 12 units ) .");
    EXPECT_EQ(tokenize_13a("don't state-of-the-art"), "don't state-of-the-art");
    EXPECT_EQ(tokenize_13a("AT&amp;T &lt;b&gt; &amp;lt;"), "AT & T < b > <");
    EXPECT_EQ(tokenize_13a("a.b 1.b a.1 1,a a,1 .5 5. 1.2.3"),
              "a . b 1 . b a . 1 1 , a a , 1 . 5 5 . 1.2.3");
    EXPECT_EQ(tokenize_13a("the cut-\nover <skipped> window\n"), "the cutover window");
    EXPECT_EQ(tokenize_13a("x{y}z[a]~`|"), "x { y } z [ a ] ~ ` |");
    EXPECT_EQ(tokenize_13a("café — naïve 東京."), "café — naïve 東京 .");
    // Python's str.split() whitespace, including NBSP, ideographic space and U+001C.
    EXPECT_EQ(tokenize_13a("a\u00a0b\u3000c\x1c"
                           "d\u200be"),
              "a b c d\u200be");
    EXPECT_EQ(tokenize_13a(""), "");
    EXPECT_EQ(tokenize_13a(" \t\n"), "");
}

TEST(Bleu, IdenticalIs100AndDisjointIsZero) {
    const std::string text = "The plan covers three sites in 2024, at $1,200 each.";
    EXPECT_DOUBLE_EQ(sentence_bleu(text, text), 100.0);
    EXPECT_EQ(sentence_bleu("alpha beta gamma delta", "epsilon zeta eta theta"), 0.0);
    EXPECT_EQ(sentence_bleu("", "the plan"), 0.0);
    EXPECT_EQ(sentence_bleu("the plan", ""), 0.0);
}

TEST(Bleu, HandCountedNgramsWithExponentialSmoothing) {
    const BleuStats st = bleu_stats("the cat sat on the mat", "the cat is on the mat");
    EXPECT_EQ(st.hyp_len, 6);
    EXPECT_EQ(st.ref_len, 6);
    EXPECT_EQ(st.correct, (std::array<int64_t, 4>{5, 3, 1, 0}));  // on-the-mat is the one 3-gram
    EXPECT_EQ(st.total, (std::array<int64_t, 4>{6, 5, 4, 3}));
    const BleuScore s = bleu_from_stats(st, BleuLevel::sentence);
    // No 4-gram matches: "exp" smoothing gives it 100 / (2 * 3).
    EXPECT_DOUBLE_EQ(s.precisions[3], 100.0 / 6);
    EXPECT_NEAR(s.score, std::pow(100.0 * 5 / 6 * 60.0 * 25.0 * (100.0 / 6), 0.25), 1e-9);
    EXPECT_DOUBLE_EQ(s.brevity_penalty, 1.0);
}

TEST(Bleu, SentenceUsesEffectiveOrderCorpusDoesNot) {
    // 2 hypothesis tokens against 6: no 3- or 4-grams in the hypothesis.
    const BleuStats st = bleu_stats("the cat", "the cat sat on the mat");
    const BleuScore sentence = bleu_from_stats(st, BleuLevel::sentence);
    EXPECT_DOUBLE_EQ(sentence.brevity_penalty, std::exp(1.0 - 6.0 / 2.0));
    EXPECT_NEAR(sentence.score, 100.0 * std::exp(-2.0), 1e-9);  // orders 1-2 only, both 100%
    EXPECT_EQ(bleu_from_stats(st, BleuLevel::corpus).score, 0.0);
}

TEST(Bleu, CorpusSumsStatisticsAndRejectsMismatchedSizes) {
    const std::vector<std::string> hyps = {"the cat sat on the mat", "a dog ran"};
    const std::vector<std::string> refs = {"the cat is on the mat", "a dog ran away"};
    BleuStats total = bleu_stats(hyps[0], refs[0]);
    total += bleu_stats(hyps[1], refs[1]);
    EXPECT_EQ(total.hyp_len, 9);
    EXPECT_EQ(total.ref_len, 10);
    EXPECT_DOUBLE_EQ(corpus_bleu(hyps, refs), bleu_from_stats(total, BleuLevel::corpus).score);
    EXPECT_EQ(corpus_bleu({}, {}), 0.0);
    try {
        corpus_bleu(hyps, std::vector<std::string>{"only one"});
        FAIL() << "no error for 2 hypotheses and 1 reference";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(e.what()).find("2 hypotheses but 1 references"), std::string::npos)
            << e.what();
    }
}

TEST(Bleu, SignatureAndScoreLineAsSacrebleuPrintsThem) {
    EXPECT_EQ(bleu_signature(BleuLevel::sentence),
              "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0");
    EXPECT_EQ(bleu_signature(BleuLevel::corpus),
              "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
    // sacrebleu.corpus_bleu(['a b c d e'], [['a b c d f']]).format(signature=...)
    const std::vector<std::string> hyps = {"a b c d e"}, refs = {"a b c d f"};
    BleuStats st = bleu_stats(hyps[0], refs[0]);
    EXPECT_EQ(format_bleu(bleu_from_stats(st, BleuLevel::corpus)),
              "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 66.87 "
              "80.0/75.0/66.7/50.0 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)");
}

TEST(Chrf, IdenticalIs100DisjointIsZeroWhitespaceIgnored) {
    EXPECT_DOUBLE_EQ(sentence_chrf("The plan covers three sites.", "The plan covers three sites."),
                     100.0);
    EXPECT_DOUBLE_EQ(sentence_chrf("the plan", "th e\tpl\u00a0an"), 100.0);
    EXPECT_EQ(sentence_chrf("abc", "xyz"), 0.0);
    EXPECT_EQ(sentence_chrf("", "abc"), 0.0);
    EXPECT_EQ(sentence_chrf("abc", ""), 0.0);
    EXPECT_EQ(sentence_chrf("", ""), 0.0);
}

TEST(Chrf, HandCountedCharacterNgrams) {
    // 1-grams: a b of a b c (P 1, R 2/3); 2-grams: ab of ab bc (P 1, R 1/2); the reference's
    // 3-gram has no hypothesis counterpart, so orders 1-2 are averaged: P 1, R 7/12;
    // F2 = 5 * 1 * 7/12 / (4 + 7/12) = 7/11.
    const ChrfStats st = chrf_stats("ab", "abc");
    EXPECT_EQ(st.hyp, (std::array<int64_t, 6>{2, 1, 0, 0, 0, 0}));
    EXPECT_EQ(st.ref, (std::array<int64_t, 6>{3, 2, 1, 0, 0, 0}));
    EXPECT_EQ(st.match, (std::array<int64_t, 6>{2, 1, 0, 0, 0, 0}));
    EXPECT_NEAR(chrf_from_stats(st), 700.0 / 11, 1e-9);
}

TEST(Chrf, CountsCodePointsNotBytes) {
    const ChrfStats st =
        chrf_stats("é東京🙂", "é東京🙂");  // 2 + 3 + 3 + 4 bytes, 4 characters
    EXPECT_EQ(st.hyp[0], 4);
    EXPECT_EQ(st.hyp[3], 1);
    EXPECT_EQ(st.hyp[4], 0);
    EXPECT_DOUBLE_EQ(chrf_from_stats(st), 100.0);
    // Ill-formed UTF-8: each stray byte is one character.
    const ChrfStats bad = chrf_stats("a\xff\xfe", "a\xff\xfe");
    EXPECT_EQ(bad.hyp[0], 3);
    EXPECT_DOUBLE_EQ(chrf_from_stats(bad), 100.0);
}

TEST(Chrf, SignatureAndScoreLine) {
    EXPECT_EQ(chrf_signature(), "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0");
    EXPECT_EQ(format_chrf(68.09575179263827),
              "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 68.10");
    EXPECT_THROW(corpus_chrf(std::vector<std::string>{"a"}, {}), Error);
    EXPECT_EQ(corpus_chrf({}, {}), 0.0);
}

// ---- agreement with the reference implementations -------------------------------------------

std::string utf8(char32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

bool is_surrogate(char32_t cp) {
    return cp >= 0xD800 && cp <= 0xDFFF;
}

std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

class SimilarityFixtures : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::string path = RDIC_TEST_DATA_DIR "/similarity_fixtures.json";
        std::ifstream in(path);
        ASSERT_TRUE(in) << path;
        fixture_ = new nlohmann::json(nlohmann::json::parse(in));
        for (const auto& p : (*fixture_)["pairs"]) {
            const bool hex = p.value("hex", false);
            const std::string h = p["hypothesis"].get<std::string>();
            const std::string r = p["reference"].get<std::string>();
            hyps_.push_back(hex ? from_hex(h) : h);
            refs_.push_back(hex ? from_hex(r) : r);
        }
    }
    static void TearDownTestSuite() {
        delete fixture_;
        fixture_ = nullptr;
    }
    static const nlohmann::json& fixture() { return *fixture_; }

    static nlohmann::json* fixture_;
    static std::vector<std::string> hyps_, refs_;
};
nlohmann::json* SimilarityFixtures::fixture_ = nullptr;
std::vector<std::string> SimilarityFixtures::hyps_, SimilarityFixtures::refs_;

TEST_F(SimilarityFixtures, GeneratedByThePinnedVersionsWithEnoughPairs) {
    EXPECT_EQ(fixture()["versions"]["sacrebleu"], "2.6.0");
    EXPECT_EQ(fixture()["versions"]["rouge-score"], "0.1.2");
    EXPECT_GE(hyps_.size(), 250u);
    std::map<std::string, int> kinds;
    for (const auto& p : fixture()["pairs"]) ++kinds[p["kind"].get<std::string>()];
    EXPECT_GE(kinds["edge"], 30);
    EXPECT_GE(kinds["bytes"], 1);
}

TEST_F(SimilarityFixtures, SignaturesMatchSacrebleu) {
    EXPECT_EQ(fixture()["signatures"]["sentence_bleu"], bleu_signature(BleuLevel::sentence));
    EXPECT_EQ(fixture()["signatures"]["corpus_bleu"], bleu_signature(BleuLevel::corpus));
    EXPECT_EQ(fixture()["signatures"]["chrf"], chrf_signature());
}

TEST_F(SimilarityFixtures, WhitespaceAndLowercasingMatchPythonForEveryCodePoint) {
    const auto spaces = fixture()["unicode"]["python_whitespace"].get<std::vector<char32_t>>();
    ASSERT_FALSE(spaces.empty());
    for (const char32_t cp : spaces) {
        std::string text = "a";  // (built with += : GCC 12 warns falsely on "a" + s + "b")
        text += utf8(cp);
        text += 'b';
        EXPECT_EQ(tokenize_13a(text), "a b") << "U+" << std::hex << static_cast<uint32_t>(cp);
    }
    // Every other scalar value is kept: chrF sees all of them as characters.
    std::string all, all_non_ascii;
    int64_t n_scalars = 0;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (is_surrogate(cp)) continue;
        ++n_scalars;
        all += utf8(cp);
        if (cp >= 0x80) all_non_ascii += utf8(cp) + " ";
    }
    EXPECT_EQ(chrf_stats(all, "xy").hyp[0], n_scalars - static_cast<int64_t>(spaces.size()));
    // rouge-score: only code points whose Python lower() holds ASCII letters or digits survive.
    EXPECT_EQ(
        rouge_tokens(all_non_ascii),
        fixture()["unicode"]["rouge_tokens_of_all_non_ascii"].get<std::vector<std::string>>());
}

TEST_F(SimilarityFixtures, EveryPairAgreesWithRougeScoreAndSacrebleu) {
    std::map<std::string, double> max_diff;
    auto check = [&](const std::string& metric, double got, double want, const std::string& id) {
        const double diff = std::fabs(got - want);
        max_diff[metric] = std::max(max_diff[metric], diff);
        EXPECT_LE(diff, kFixtureTolerance)
            << metric << " of pair " << id << ": rdic " << got << ", reference " << want;
    };
    const auto& pairs = fixture()["pairs"];
    for (size_t i = 0; i < pairs.size(); ++i) {
        const auto& p = pairs[i];
        const std::string id = p["id"].get<std::string>();
        const RougeScores r = rouge(hyps_[i], refs_[i]);
        const std::map<std::string, const PrecisionRecallF*> ours = {
            {"rouge1", &r.rouge1}, {"rouge2", &r.rouge2}, {"rougeL", &r.rougeL}};
        for (const auto& [name, s] : ours) {
            const auto& want = p["rouge"][name];
            check(name + ".precision", s->precision, want["precision"].get<double>(), id);
            check(name + ".recall", s->recall, want["recall"].get<double>(), id);
            check(name + ".f1", s->f1, want["fmeasure"].get<double>(), id);
        }

        const BleuStats st = bleu_stats(hyps_[i], refs_[i]);
        const auto& wb = p["sentence_bleu"];
        EXPECT_EQ(st.hyp_len, wb["sys_len"].get<int64_t>()) << id;
        EXPECT_EQ(st.ref_len, wb["ref_len"].get<int64_t>()) << id;
        EXPECT_EQ(st.correct, (wb["counts"].get<std::array<int64_t, 4>>())) << id;
        EXPECT_EQ(st.total, (wb["totals"].get<std::array<int64_t, 4>>())) << id;
        check("sentence_bleu", sentence_bleu(hyps_[i], refs_[i]), wb["score"].get<double>(), id);

        const ChrfStats cs = chrf_stats(hyps_[i], refs_[i]);
        const auto want_stats = p["sentence_chrf"]["stats"].get<std::vector<int64_t>>();
        ASSERT_EQ(want_stats.size(), 3u * kChrfCharOrder) << id;
        for (size_t n = 0; n < kChrfCharOrder; ++n) {
            EXPECT_EQ(cs.hyp[n], want_stats[3 * n]) << id << " order " << n + 1;
            EXPECT_EQ(cs.ref[n], want_stats[3 * n + 1]) << id << " order " << n + 1;
            EXPECT_EQ(cs.match[n], want_stats[3 * n + 2]) << id << " order " << n + 1;
        }
        check("sentence_chrf", sentence_chrf(hyps_[i], refs_[i]),
              p["sentence_chrf"]["score"].get<double>(), id);
    }
    // The agreement docs/evaluation.md reports.
    for (const auto& [metric, diff] : max_diff)
        std::printf("max |rdic - reference| %-18s %.3g over %zu pairs\n", metric.c_str(), diff,
                    pairs.size());
}

TEST_F(SimilarityFixtures, CorpusScoresAndScoreLinesAgree) {
    const auto& pairs = fixture()["pairs"];
    double max_bleu_diff = 0, max_chrf_diff = 0;
    for (const auto& [group, want] : fixture()["corpus"].items()) {
        std::vector<std::string> hyps, refs;
        for (size_t i = 0; i < pairs.size(); ++i) {
            if (group != "all" && pairs[i]["kind"] != group) continue;
            hyps.push_back(hyps_[i]);
            refs.push_back(refs_[i]);
        }
        ASSERT_EQ(hyps.size(), want["n_pairs"].get<size_t>()) << group;
        BleuStats total;
        ChrfStats chrf_total;
        for (size_t i = 0; i < hyps.size(); ++i) {
            total += bleu_stats(hyps[i], refs[i]);
            chrf_total += chrf_stats(hyps[i], refs[i]);
        }
        const BleuScore bleu = bleu_from_stats(total, BleuLevel::corpus);
        EXPECT_NEAR(bleu.score, want["bleu"]["score"].get<double>(), kFixtureTolerance) << group;
        EXPECT_NEAR(corpus_bleu(hyps, refs), want["bleu"]["score"].get<double>(), kFixtureTolerance)
            << group;
        EXPECT_EQ(total.correct, (want["bleu"]["counts"].get<std::array<int64_t, 4>>())) << group;
        EXPECT_EQ(total.total, (want["bleu"]["totals"].get<std::array<int64_t, 4>>())) << group;
        EXPECT_EQ(format_bleu(bleu), want["bleu"]["formatted"].get<std::string>()) << group;
        const double chrf = chrf_from_stats(chrf_total);
        EXPECT_NEAR(chrf, want["chrf"]["score"].get<double>(), kFixtureTolerance) << group;
        EXPECT_NEAR(corpus_chrf(hyps, refs), want["chrf"]["score"].get<double>(), kFixtureTolerance)
            << group;
        EXPECT_EQ(format_chrf(chrf), want["chrf"]["formatted"].get<std::string>()) << group;
        max_bleu_diff =
            std::max(max_bleu_diff, std::fabs(bleu.score - want["bleu"]["score"].get<double>()));
        max_chrf_diff =
            std::max(max_chrf_diff, std::fabs(chrf - want["chrf"]["score"].get<double>()));
    }
    std::printf("max |rdic - reference| corpus_bleu %.3g, corpus_chrf %.3g over %zu corpora\n",
                max_bleu_diff, max_chrf_diff, fixture()["corpus"].size());
}

}  // namespace
}  // namespace rdic
