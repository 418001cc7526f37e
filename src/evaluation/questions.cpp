#include "rdic/evaluation/questions.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace rdic {

namespace {

// A thousands separator is followed by exactly this many digits (then a non-digit or the end).
constexpr size_t kThousandsGroup = 3;

// Phrases that mark a reply as "I don't know", in normalised form (see is_abstention).
constexpr std::array<std::string_view, 11> kAbstentionPhrases = {
    "unknown",          "not stated",      "not mentioned",  "not specified",
    "does not say",     "doesn t say",     "no information", "i don t know",
    "cannot determine", "can t determine", "not provided",
};

bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

bool is_lower_alnum(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// The ',' or '\'' at `i` sits between a digit and exactly three digits: "47,200", "1'234'567"
// (but not "3,14" or "12,3456"). Judged on the original text, as the Python checker's regex
// lookarounds are.
bool is_thousands_separator(std::string_view s, size_t i) {
    const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    if (at(i) != ',' && at(i) != '\'') return false;
    if (i == 0 || !is_digit(at(i - 1))) return false;
    if (i + kThousandsGroup >= s.size()) return false;
    for (size_t k = 1; k <= kThousandsGroup; ++k)
        if (!is_digit(at(i + k))) return false;
    const size_t after = i + kThousandsGroup + 1;
    return after == s.size() || !is_digit(at(after));
}

// Both sides padded with a space, so a plain substring test is a word-bounded one.
bool contains_phrase(const std::string& padded_text, std::string_view normalised_phrase) {
    std::string padded_phrase;
    padded_phrase.reserve(normalised_phrase.size() + 2);
    padded_phrase += ' ';
    padded_phrase += normalised_phrase;
    padded_phrase += ' ';
    return padded_text.find(padded_phrase) != std::string::npos;
}

std::string padded(std::string normalised) {
    normalised.insert(normalised.begin(), ' ');
    normalised += ' ';
    return normalised;
}

bool any_occurs(const std::vector<std::string>& answers, const std::string& padded_reply) {
    for (const auto& a : answers) {
        const std::string n = normalise_answer(a);
        if (!n.empty() && contains_phrase(padded_reply, n)) return true;
    }
    return false;
}

// Polynomial hash of fixed-width byte windows, rolled one byte at a time (arithmetic mod 2^64).
// Equal hashes are always verified byte by byte, so the base only affects speed.
constexpr uint64_t kHashBase = 1099511628211ULL;  // the 64-bit FNV prime: odd, well mixed

class RollingHash {
public:
    RollingHash(std::string_view text, size_t span) : text_(text), span_(span) {
        for (size_t k = 0; k < span_; ++k) {
            hash_ = hash_ * kHashBase + byte(k);
            if (k > 0) top_power_ *= kHashBase;
        }
    }
    uint64_t hash() const { return hash_; }
    // Moves from the window at `start` to the one at `start + 1`; needs start + span_ < size.
    void roll(size_t start) {
        hash_ = (hash_ - byte(start) * top_power_) * kHashBase + byte(start + span_);
    }

private:
    uint64_t byte(size_t k) const { return static_cast<unsigned char>(text_[k]); }

    std::string_view text_;
    size_t span_;
    uint64_t hash_ = 0;
    uint64_t top_power_ = 1;  // kHashBase^(span_ - 1)
};

constexpr size_t kNone = static_cast<size_t>(-1);

// Every distinct `span`-byte window of a text, found by content. Each distinct window is stored
// once (its first position); a window equal to the one before it shifted by a byte is recognised
// without a lookup, so long repeats cost O(1) a byte.
class WindowIndex {
public:
    WindowIndex(std::string_view text, size_t span) : text_(text), span_(span) {
        RollingHash h(text_, span_);
        size_t twin = kNone;  // an earlier position whose window equals the current one
        for (size_t p = 0; p + span_ <= text_.size(); ++p) {
            if (p > 0) h.roll(p - 1);
            // Window p-1 equalled window `twin` (< p-1), so window p equals window twin+1 (< p,
            // already indexed) when the bytes that enter agree.
            if (twin != kNone && text_[twin + span_] == text_[p + span_ - 1]) {
                ++twin;
                continue;
            }
            twin = find(text_.data() + p, h.hash());
            if (twin == kNone) by_hash_.emplace(h.hash(), p);
        }
    }

    // Position of a window equal to the `span` bytes at `w` (whose hash is `hash`), or kNone.
    size_t find(const char* w, uint64_t hash) const {
        const auto [first, last] = by_hash_.equal_range(hash);
        for (auto it = first; it != last; ++it)
            if (std::memcmp(text_.data() + it->second, w, span_) == 0) return it->second;
        return kNone;
    }

private:
    std::string_view text_;
    size_t span_;
    std::unordered_multimap<uint64_t, size_t> by_hash_;  // hash -> first position of the window
};

}  // namespace

std::string normalise_answer(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (is_thousands_separator(text, i)) continue;  // "47,200" reads as "47200"
        const unsigned char c = lower(static_cast<unsigned char>(text[i]));
        if (!is_lower_alnum(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += static_cast<char>(c);
    }
    return out;
}

bool answer_occurs(std::string_view answer, std::string_view text) {
    const std::string a = normalise_answer(answer);
    return !a.empty() && contains_phrase(padded(normalise_answer(text)), a);
}

std::string_view to_string(AnswerOutcome o) {
    switch (o) {
        case AnswerOutcome::correct:
            return "correct";
        case AnswerOutcome::lure:
            return "lure";
        case AnswerOutcome::mixed:
            return "mixed";
        case AnswerOutcome::abstained:
            return "abstained";
        case AnswerOutcome::wrong:
            return "wrong";
    }
    return "?";
}

bool is_abstention(std::string_view reply) {
    const std::string n = normalise_answer(reply);
    if (n.empty()) return true;
    const std::string p = padded(n);
    for (std::string_view phrase : kAbstentionPhrases)
        if (contains_phrase(p, phrase)) return true;
    return false;
}

AnswerOutcome score_answer(const Question& question, std::string_view reply) {
    const std::string p = padded(normalise_answer(reply));
    const bool accepted = any_occurs(question.answers, p);
    bool lured = false;
    for (const auto& l : question.lures) lured = lured || any_occurs(l.answers, p);
    if (accepted) return lured ? AnswerOutcome::mixed : AnswerOutcome::correct;
    if (lured) return AnswerOutcome::lure;
    return is_abstention(reply) ? AnswerOutcome::abstained : AnswerOutcome::wrong;
}

double copy_share(std::string_view output, std::string_view prompt, size_t min_span) {
    // A byte is covered by a copied span of >= span bytes exactly when it lies in some span-byte
    // window of the output that occurs in the prompt (every such window of a longer copy occurs
    // too), so marking the matching windows is enough.
    const size_t span = min_span == 0 ? 1 : min_span;  // a span of 0 bytes copies nothing
    if (output.empty() || output.size() < span || prompt.size() < span) return 0;
    const WindowIndex index(prompt, span);
    RollingHash h(output, span);
    size_t at = kNone;  // where in the prompt the current output window occurs
    size_t reach = 0;   // output bytes [0, reach) are decided; covered ones counted
    size_t n_covered = 0;
    for (size_t i = 0; i + span <= output.size(); ++i) {
        if (i > 0) h.roll(i - 1);
        // Extending the previous match by one byte needs no lookup.
        if (at != kNone && at + span < prompt.size() && prompt[at + span] == output[i + span - 1])
            ++at;
        else
            at = index.find(output.data() + i, h.hash());
        if (at == kNone) continue;
        const size_t from = reach > i ? reach : i;
        n_covered += i + span - from;
        reach = i + span;
    }
    return static_cast<double>(n_covered) / static_cast<double>(output.size());
}

}  // namespace rdic
