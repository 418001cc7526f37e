#include "rdic/evaluation/contamination.h"

#include <algorithm>
#include <set>

namespace rdic {

namespace {

bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// Lowercased, whitespace runs collapsed to one space, trimmed.
std::string normalise(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += static_cast<char>(lower(c));
    }
    return out;
}

int64_t count_normalised(const std::string& text, const std::string& term) {
    if (term.empty()) return 0;
    int64_t n = 0;
    for (size_t at = text.find(term); at != std::string::npos; at = text.find(term, at + 1)) {
        const bool left_ok = at == 0 || !is_word_byte(static_cast<unsigned char>(text[at - 1])) ||
                             !is_word_byte(static_cast<unsigned char>(term.front()));
        const size_t end = at + term.size();
        const bool right_ok = end == text.size() ||
                              !is_word_byte(static_cast<unsigned char>(text[end])) ||
                              !is_word_byte(static_cast<unsigned char>(term.back()));
        n += left_ok && right_ok;
    }
    return n;
}

}  // namespace

int64_t count_term(std::string_view text, std::string_view term) {
    return count_normalised(normalise(text), normalise(term));
}

int64_t count_words(std::string_view text) {
    int64_t n = 0;
    bool in_word = false;
    for (char ch : text) {
        const bool space = is_space(static_cast<unsigned char>(ch));
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

OutputMetrics evaluate_output(const Example& ex, const std::string& cluster_id,
                              std::string_view text) {
    OutputMetrics m;
    m.cluster_id = cluster_id;
    const Cluster* self = ex.find(cluster_id);
    if (self == nullptr) return m;
    m.kind = self->kind;
    m.n_words = count_words(text);
    const std::string norm = normalise(text);
    auto present = [&](const std::string& needle) {
        return count_normalised(norm, normalise(needle)) > 0;
    };

    if (self->kind == ClusterKind::topic) {
        int64_t distinct = 0;
        for (const std::string& t : self->terminology) {
            const int64_t n = count_normalised(norm, normalise(t));
            m.own_hits += n;
            distinct += n > 0;
        }
        if (!self->terminology.empty()) {
            m.own_term_coverage =
                static_cast<double>(distinct) / static_cast<double>(self->terminology.size());
        }
        for (const std::string& c : self->canaries) {
            if (present(c)) m.own_canaries.push_back(c);
        }
        for (const Cluster* other : ex.topics()) {
            if (other->id == self->id) continue;
            int64_t hits = 0;
            for (const std::string& t : other->terminology)
                hits += count_normalised(norm, normalise(t));
            m.foreign_hits_by_cluster[other->id] = hits;
            m.foreign_hits += hits;
            for (const std::string& c : other->canaries) {
                if (present(c)) m.leaked_canaries.push_back(c);
            }
        }
    } else {
        for (const Cluster* topic : ex.topics()) {
            int64_t distinct = 0;
            for (const std::string& t : topic->terminology) distinct += present(t);
            m.topic_term_coverage[topic->id] =
                topic->terminology.empty() ? 0.0
                                           : static_cast<double>(distinct) /
                                                 static_cast<double>(topic->terminology.size());
            int64_t canaries = 0;
            for (const std::string& c : topic->canaries) canaries += present(c);
            m.topic_canary_coverage[topic->id] =
                topic->canaries.empty()
                    ? 0.0
                    : static_cast<double>(canaries) / static_cast<double>(topic->canaries.size());
        }
    }
    if (m.n_words > 0)
        m.foreign_per_100_words =
            100.0 * static_cast<double>(m.foreign_hits) / static_cast<double>(m.n_words);
    if (m.own_hits + m.foreign_hits > 0) {
        m.foreign_share =
            static_cast<double>(m.foreign_hits) / static_cast<double>(m.own_hits + m.foreign_hits);
    }
    return m;
}

}  // namespace rdic
