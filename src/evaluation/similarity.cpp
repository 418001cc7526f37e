#include "rdic/evaluation/similarity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <utility>

#include "rdic/error.h"

namespace rdic {

namespace {

// The sacreBLEU release whose behaviour and signature this file reproduces.
constexpr std::string_view kSacrebleuVersion = "2.6.0";
// sacrebleu.utils.my_log: log(0) is floored to this value.
constexpr double kLogOfZero = -9999999999.0;

// ---- UTF-8 as Python sees it -----------------------------------------------------------------

struct Utf8Char {
    char32_t cp = 0;    // meaningless when !valid
    uint32_t len = 1;   // bytes
    bool valid = true;  // false: one byte of an ill-formed sequence (a lone surrogate in Python)
};

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// Decodes the character at s[i] following the well-formed table of Unicode 15, section 3.9
// (no overlongs, no surrogates, nothing past U+10FFFF). An ill-formed byte is returned alone,
// as Python's surrogateescape handler does.
Utf8Char decode_at(std::string_view s, size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return {b0, 1, true};
    const size_t left = s.size() - i;
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (left >= 2 && is_continuation(byte(1)))
            return {static_cast<char32_t>(((b0 & 0x1F) << 6) | (byte(1) & 0x3F)), 2, true};
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (left >= 3) {
            const unsigned char b1 = byte(1);
            const bool b1_ok = b0 == 0xE0   ? (b1 >= 0xA0 && b1 <= 0xBF)
                               : b0 == 0xED ? (b1 >= 0x80 && b1 <= 0x9F)
                                            : is_continuation(b1);
            if (b1_ok && is_continuation(byte(2)))
                return {static_cast<char32_t>(((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) |
                                              (byte(2) & 0x3F)),
                        3, true};
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (left >= 4) {
            const unsigned char b1 = byte(1);
            const bool b1_ok = b0 == 0xF0   ? (b1 >= 0x90 && b1 <= 0xBF)
                               : b0 == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F)
                                            : is_continuation(b1);
            if (b1_ok && is_continuation(byte(2)) && is_continuation(byte(3)))
                return {static_cast<char32_t>(((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) |
                                              ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F)),
                        4, true};
        }
    }
    return {0, 1, false};
}

// Python's str.isspace() / str.split() whitespace: Unicode White_Space characters with bidi class
// WS, B or S or category Zs (Python 3.11; the set has not changed since Unicode 6.3). The unit
// test checks all code points against the list Python gives.
bool is_py_space(char32_t cp) {
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_py_space(const Utf8Char& c) {
    return c.valid && is_py_space(c.cp);
}

// Python str.rstrip().
std::string_view py_rstrip(std::string_view s) {
    size_t end = 0;
    for (size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_at(s, i);
        i += c.len;
        if (!is_py_space(c)) end = i;
    }
    return s.substr(0, end);
}

// Python ' '.join(s.split()).
std::string py_split_join(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    for (size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_at(s, i);
        if (is_py_space(c)) {
            pending_space = !out.empty();
        } else {
            if (pending_space) out += ' ';
            pending_space = false;
            out.append(s.substr(i, c.len));
        }
        i += c.len;
    }
    return out;
}

// Python str.replace (left to right, non-overlapping).
void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (s.find(from) == std::string::npos) return;
    std::string out;
    out.reserve(s.size());
    size_t at = 0;
    for (size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, at)) {
        out.append(s, at, hit - at);
        out.append(to);
        at = hit + from.size();
    }
    out.append(s, at, std::string::npos);
    s = std::move(out);
}

// Tokens of a text whose tokens are separated by single spaces (no leading/trailing space).
std::vector<std::string_view> split_single_spaces(std::string_view s) {
    std::vector<std::string_view> tokens;
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find(' ', start);
        if (end == std::string_view::npos) end = s.size();
        tokens.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return tokens;
}

// Python's re.sub for a two-character pattern `first second`: matches are found left to right
// without overlapping, and each is replaced by what `emit` appends.
template <class First, class Second, class Emit>
std::string sub_pairs(const std::string& s, First first, Second second, Emit emit) {
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
            emit(out, s[i], s[i + 1]);
            i += 2;
        } else {
            out += s[i++];
        }
    }
    return out;
}

bool is_ascii_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

// ---- ROUGE -----------------------------------------------------------------------------------

double fmeasure(double precision, double recall) {
    // rouge_score.scoring.fmeasure
    return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

PrecisionRecallF ratio_scores(int64_t matches, int64_t n_hyp, int64_t n_ref) {
    PrecisionRecallF s;
    s.precision = static_cast<double>(matches) / static_cast<double>(std::max<int64_t>(n_hyp, 1));
    s.recall = static_cast<double>(matches) / static_cast<double>(std::max<int64_t>(n_ref, 1));
    s.f1 = fmeasure(s.precision, s.recall);
    return s;
}

int64_t lcs_length(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    std::vector<int32_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
    for (const uint32_t x : a) {
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = x == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// ---- n-gram counting ---------------------------------------------------------------------------

// An n-gram of up to 4 token ids (32 bits each) or up to 6 characters (21 bits each), packed;
// unused slots are 0. Keys are only compared within one order, so the padding cannot collide.
using NgramKey = std::pair<uint64_t, uint64_t>;

NgramKey pack_ngram(const uint32_t* items, size_t n, int bits) {
    const size_t per_half = static_cast<size_t>(64 / bits);
    NgramKey key{0, 0};
    for (size_t k = 0; k < n; ++k) {
        uint64_t& half = k < per_half ? key.first : key.second;
        half = (half << bits) | items[k];
    }
    return key;
}

std::vector<NgramKey> ngram_keys(const std::vector<uint32_t>& items, size_t n, int bits) {
    std::vector<NgramKey> keys;
    if (items.size() < n) return keys;
    keys.reserve(items.size() - n + 1);
    for (size_t i = 0; i + n <= items.size(); ++i) keys.push_back(pack_ngram(&items[i], n, bits));
    return keys;
}

// Sum over distinct n-grams of min(hypothesis count, reference count): the clipped matches of
// BLEU, chrF and ROUGE-N. Sorting and merging avoids a hash map per order.
int64_t clipped_matches(std::vector<NgramKey> hyp, std::vector<NgramKey> ref) {
    std::sort(hyp.begin(), hyp.end());
    std::sort(ref.begin(), ref.end());
    int64_t matches = 0;
    size_t i = 0, j = 0;
    while (i < hyp.size() && j < ref.size()) {
        if (hyp[i] < ref[j]) {
            ++i;
        } else if (ref[j] < hyp[i]) {
            ++j;
        } else {
            const NgramKey key = hyp[i];
            int64_t n_hyp = 0, n_ref = 0;
            for (; i < hyp.size() && hyp[i] == key; ++i) ++n_hyp;
            for (; j < ref.size() && ref[j] == key; ++j) ++n_ref;
            matches += std::min(n_hyp, n_ref);
        }
    }
    return matches;
}

int64_t n_ngrams(int64_t length, int n) {
    return std::max<int64_t>(0, length - n + 1);
}

constexpr int kTokenIdBits = 32;  // 4 ids in 128 bits
constexpr int kCharBits = 21;     // 6 characters in 126 bits
// Characters of ill-formed UTF-8: one per byte, above every code point (still within 21 bits).
constexpr uint32_t kStrayByteBase = 0x110000;

// Interns tokens of several texts into shared small integer ids.
class TokenIds {
public:
    template <typename Tokens>
    std::vector<uint32_t> ids_of(const Tokens& tokens) {
        std::vector<uint32_t> out;
        out.reserve(tokens.size());
        for (const auto& t : tokens)
            out.push_back(ids_.try_emplace(std::string_view(t), static_cast<uint32_t>(ids_.size()))
                              .first->second);
        return out;
    }

private:
    std::unordered_map<std::string_view, uint32_t> ids_;
};

// ---- chrF ------------------------------------------------------------------------------------

// The characters of a text with whitespace removed (sacreBLEU: ''.join(line.split())).
std::vector<uint32_t> chars_without_whitespace(std::string_view s) {
    std::vector<uint32_t> chars;
    chars.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_at(s, i);
        if (!c.valid)
            chars.push_back(kStrayByteBase + static_cast<unsigned char>(s[i]));
        else if (!is_py_space(c.cp))
            chars.push_back(static_cast<uint32_t>(c.cp));
        i += c.len;
    }
    return chars;
}

void check_sizes(std::span<const std::string> hyps, std::span<const std::string> refs,
                 std::string_view what) {
    if (hyps.size() != refs.size())
        throw Error(ErrorCode::invalid_argument,
                    std::string(what) + ": " + std::to_string(hyps.size()) + " hypotheses but " +
                        std::to_string(refs.size()) + " references (one reference each)");
}

}  // namespace

// ---- ROUGE -----------------------------------------------------------------------------------

std::vector<std::string> rouge_tokens(std::string_view text) {
    std::vector<std::string> tokens;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty()) tokens.push_back(std::move(cur));
        cur.clear();
    };
    for (size_t i = 0; i < text.size();) {
        const Utf8Char c = decode_at(text, i);
        i += c.len;
        if (!c.valid) {
            flush();
        } else if (c.cp >= 'A' && c.cp <= 'Z') {
            cur += static_cast<char>(c.cp - 'A' + 'a');
        } else if ((c.cp >= 'a' && c.cp <= 'z') || (c.cp >= '0' && c.cp <= '9')) {
            cur += static_cast<char>(c.cp);
        } else if (c.cp == 0x212A) {  // KELVIN SIGN: lower() is ASCII 'k'
            cur += 'k';
        } else if (c.cp == 0x130) {  // 'İ': lower() is "i" + U+0307, which separates
            cur += 'i';
            flush();
        } else {
            flush();
        }
    }
    flush();
    return tokens;
}

RougeScores rouge(std::string_view hypothesis, std::string_view reference) {
    const std::vector<std::string> hyp_tokens = rouge_tokens(hypothesis);
    const std::vector<std::string> ref_tokens = rouge_tokens(reference);
    // Tokens as small integers shared by both texts: n-gram keys and the LCS compare ids.
    TokenIds ids;
    const std::vector<uint32_t> hyp = ids.ids_of(hyp_tokens);
    const std::vector<uint32_t> ref = ids.ids_of(ref_tokens);
    const auto n_hyp = static_cast<int64_t>(hyp.size());
    const auto n_ref = static_cast<int64_t>(ref.size());
    auto overlap = [&](size_t n) {
        return clipped_matches(ngram_keys(hyp, n, kTokenIdBits), ngram_keys(ref, n, kTokenIdBits));
    };

    RougeScores s;
    s.rouge1 = ratio_scores(overlap(1), n_ngrams(n_hyp, 1), n_ngrams(n_ref, 1));
    s.rouge2 = ratio_scores(overlap(2), n_ngrams(n_hyp, 2), n_ngrams(n_ref, 2));
    if (!hyp.empty() && !ref.empty()) {
        // rouge-score divides by the token counts directly (no max(., 1)); both are > 0 here.
        const auto lcs = static_cast<double>(lcs_length(ref, hyp));
        s.rougeL.precision = lcs / static_cast<double>(n_hyp);
        s.rougeL.recall = lcs / static_cast<double>(n_ref);
        s.rougeL.f1 = fmeasure(s.rougeL.precision, s.rougeL.recall);
    }
    return s;
}

// ---- BLEU ------------------------------------------------------------------------------------

BleuStats& BleuStats::operator+=(const BleuStats& other) {
    hyp_len += other.hyp_len;
    ref_len += other.ref_len;
    for (size_t n = 0; n < kBleuMaxOrder; ++n) {
        correct[n] += other.correct[n];
        total[n] += other.total[n];
    }
    return *this;
}

std::string tokenize_13a(std::string_view text) {
    std::string s(py_rstrip(text));
    replace_all(s, "<skipped>", "");
    replace_all(s, "-\n", "");
    replace_all(s, "\n", " ");
    if (s.find('&') != std::string::npos) {
        replace_all(s, "&quot;", "\"");
        replace_all(s, "&amp;", "&");
        replace_all(s, "&lt;", "<");
        replace_all(s, "&gt;", ">");
    }
    s = " " + s + " ";

    // The four regular expressions of sacreBLEU's TokenizerRegexp, each applied to the whole
    // string in turn with re.sub's left-to-right, non-overlapping matching. They only ever match
    // ASCII bytes ([^0-9] aside), so scanning bytes gives the same result as Python scanning code
    // points: a multi-byte character before or after a match is copied through unchanged.
    std::string out;
    out.reserve(s.size() * 2);
    // 1. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 "
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool symbol = (c >= '{' && c <= '~') || (c >= '[' && c <= '`') ||
                            (c >= ' ' && c <= '&') || (c >= '(' && c <= '+') ||
                            (c >= ':' && c <= '@') || c == '/';
        if (symbol) {
            out += ' ';
            out += ch;
            out += ' ';
        } else {
            out += ch;
        }
    }
    auto is_period_comma = [](char c) { return c == '.' || c == ','; };
    auto digit = [](char c) { return is_ascii_digit(static_cast<unsigned char>(c)); };
    auto not_digit = [&](char c) { return !digit(c); };
    // 2. ([^0-9])([\.,]) -> "\1 \2 "
    out = sub_pairs(out, not_digit, is_period_comma, [](std::string& o, char a, char b) {
        o += a;
        o += ' ';
        o += b;
        o += ' ';
    });
    // 3. ([\.,])([^0-9]) -> " \1 \2"
    out = sub_pairs(out, is_period_comma, not_digit, [](std::string& o, char a, char b) {
        o += ' ';
        o += a;
        o += ' ';
        o += b;
    });
    // 4. ([0-9])(-) -> "\1 \2 "
    out = sub_pairs(
        out, digit, [](char c) { return c == '-'; },
        [](std::string& o, char a, char) {
            o += a;
            o += " - ";
        });
    return py_split_join(out);
}

BleuStats bleu_stats(std::string_view hypothesis, std::string_view reference) {
    const std::string hyp_text = tokenize_13a(hypothesis);
    const std::string ref_text = tokenize_13a(reference);
    TokenIds ids;
    const std::vector<uint32_t> hyp = ids.ids_of(split_single_spaces(hyp_text));
    const std::vector<uint32_t> ref = ids.ids_of(split_single_spaces(ref_text));
    BleuStats st;
    st.hyp_len = static_cast<int64_t>(hyp.size());
    st.ref_len = static_cast<int64_t>(ref.size());
    for (int n = 1; n <= kBleuMaxOrder; ++n) {
        st.total[n - 1] = n_ngrams(st.hyp_len, n);
        const auto n_size = static_cast<size_t>(n);
        st.correct[n - 1] = clipped_matches(ngram_keys(hyp, n_size, kTokenIdBits),
                                            ngram_keys(ref, n_size, kTokenIdBits));
    }
    return st;
}

BleuScore bleu_from_stats(const BleuStats& stats, BleuLevel level) {
    // sacrebleu.metrics.bleu.BLEU.compute_bleu with smooth_method="exp"; the floating-point
    // operations are done in the same order so that the results are bit-identical.
    BleuScore s;
    s.stats = stats;
    s.level = level;
    s.brevity_penalty = 1.0;
    if (stats.hyp_len < stats.ref_len)
        s.brevity_penalty = stats.hyp_len > 0 ? std::exp(1 - static_cast<double>(stats.ref_len) /
                                                                 static_cast<double>(stats.hyp_len))
                                              : 0.0;
    if (std::all_of(stats.correct.begin(), stats.correct.end(), [](int64_t c) { return c == 0; }))
        return s;

    double smooth_mteval = 1.0;
    int eff_order = kBleuMaxOrder;
    for (int n = 1; n <= kBleuMaxOrder; ++n) {
        const auto total = static_cast<double>(stats.total[n - 1]);
        if (stats.total[n - 1] == 0) break;
        if (level == BleuLevel::sentence) eff_order = n;
        if (stats.correct[n - 1] == 0) {
            smooth_mteval *= 2;
            s.precisions[n - 1] = 100. / (smooth_mteval * total);
        } else {
            s.precisions[n - 1] = 100. * static_cast<double>(stats.correct[n - 1]) / total;
        }
    }
    double log_sum = 0;
    for (int n = 0; n < eff_order; ++n)
        log_sum += s.precisions[n] == 0.0 ? kLogOfZero : std::log(s.precisions[n]);
    s.score = s.brevity_penalty * std::exp(log_sum / eff_order);
    return s;
}

double sentence_bleu(std::string_view hypothesis, std::string_view reference) {
    return bleu_from_stats(bleu_stats(hypothesis, reference), BleuLevel::sentence).score;
}

double corpus_bleu(std::span<const std::string> hypotheses,
                   std::span<const std::string> references) {
    check_sizes(hypotheses, references, "corpus_bleu");
    BleuStats total;
    for (size_t i = 0; i < hypotheses.size(); ++i)
        total += bleu_stats(hypotheses[i], references[i]);
    return bleu_from_stats(total, BleuLevel::corpus).score;
}

std::string bleu_signature(BleuLevel level) {
    return std::string("nrefs:1|case:mixed|eff:") + (level == BleuLevel::sentence ? "yes" : "no") +
           "|tok:13a|smooth:exp|version:" + std::string(kSacrebleuVersion);
}

std::string format_bleu(const BleuScore& score) {
    // sacrebleu's BLEUScore.format(signature=...): Python's fixed-point formatting rounds the
    // exact binary value half-to-even, as printf does.
    const BleuStats& st = score.stats;
    const double ratio =
        st.ref_len != 0 ? static_cast<double>(st.hyp_len) / static_cast<double>(st.ref_len) : 0.0;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  " = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %lld "
                  "ref_len = %lld)",
                  score.score, score.precisions[0], score.precisions[1], score.precisions[2],
                  score.precisions[3], score.brevity_penalty, ratio,
                  static_cast<long long>(st.hyp_len), static_cast<long long>(st.ref_len));
    return "BLEU|" + bleu_signature(score.level) + buf;
}

// ---- chrF ------------------------------------------------------------------------------------

ChrfStats& ChrfStats::operator+=(const ChrfStats& other) {
    for (size_t n = 0; n < kChrfCharOrder; ++n) {
        hyp[n] += other.hyp[n];
        ref[n] += other.ref[n];
        match[n] += other.match[n];
    }
    return *this;
}

ChrfStats chrf_stats(std::string_view hypothesis, std::string_view reference) {
    const std::vector<uint32_t> hyp = chars_without_whitespace(hypothesis);
    const std::vector<uint32_t> ref = chars_without_whitespace(reference);
    ChrfStats st;
    for (int n = 1; n <= kChrfCharOrder; ++n) {
        const int64_t n_ref = n_ngrams(static_cast<int64_t>(ref.size()), n);
        st.ref[n - 1] = n_ref;
        // sacreBLEU counts hypothesis n-grams only where the reference has n-grams of that order.
        st.hyp[n - 1] = n_ref > 0 ? n_ngrams(static_cast<int64_t>(hyp.size()), n) : 0;
        const auto n_size = static_cast<size_t>(n);
        if (st.hyp[n - 1] > 0)
            st.match[n - 1] = clipped_matches(ngram_keys(hyp, n_size, kCharBits),
                                              ngram_keys(ref, n_size, kCharBits));
    }
    return st;
}

double chrf_from_stats(const ChrfStats& st) {
    // sacrebleu.metrics.chrf.CHRF._compute_f_score without eps smoothing, same operation order.
    const double factor = kChrfBeta * kChrfBeta;
    double avg_prec = 0.0, avg_rec = 0.0;
    int effective_order = 0;
    for (size_t n = 0; n < kChrfCharOrder; ++n) {
        if (st.hyp[n] > 0 && st.ref[n] > 0) {
            avg_prec += static_cast<double>(st.match[n]) / static_cast<double>(st.hyp[n]);
            avg_rec += static_cast<double>(st.match[n]) / static_cast<double>(st.ref[n]);
            ++effective_order;
        }
    }
    if (effective_order == 0) return 0.0;
    avg_prec /= effective_order;
    avg_rec /= effective_order;
    if (avg_prec + avg_rec == 0.0) return 0.0;
    double score = (1 + factor) * avg_prec * avg_rec;
    score /= (factor * avg_prec) + avg_rec;
    return 100 * score;
}

double sentence_chrf(std::string_view hypothesis, std::string_view reference) {
    return chrf_from_stats(chrf_stats(hypothesis, reference));
}

double corpus_chrf(std::span<const std::string> hypotheses,
                   std::span<const std::string> references) {
    check_sizes(hypotheses, references, "corpus_chrf");
    ChrfStats total;
    for (size_t i = 0; i < hypotheses.size(); ++i)
        total += chrf_stats(hypotheses[i], references[i]);
    return chrf_from_stats(total);
}

std::string chrf_signature() {
    return "nrefs:1|case:mixed|eff:yes|nc:" + std::to_string(kChrfCharOrder) +
           "|nw:0|space:no|version:" + std::string(kSacrebleuVersion);
}

std::string format_chrf(double score) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " = %.2f", score);
    return "chrF" + std::to_string(kChrfBeta) + "|" + chrf_signature() + buf;
}

}  // namespace rdic
