#include "rdic/clustering/assignment.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "rdic/error.h"

namespace rdic {

namespace {

// Uniform integer in [0, n) from a 64-bit engine, by rejection (std::uniform_int_distribution's
// algorithm is implementation-defined, so it would differ between standard libraries).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
    const uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % n;
    uint64_t x = rng();
    while (x >= limit) x = rng();
    return x % n;
}

}  // namespace

std::vector<int32_t> label_assignment(const Example& example) {
    std::map<std::string, int32_t> value;
    int32_t next_topic = 0, next_synth = kSynthesisCluster;
    for (const Cluster* c : example.topics()) value[c->id] = next_topic++;
    for (const Cluster* c : example.syntheses()) value[c->id] = next_synth--;
    std::vector<int32_t> out;
    out.reserve(example.turns.size());
    for (const Turn& t : example.turns) {
        const auto it = value.find(t.cluster);
        if (it == value.end()) {
            throw Error(ErrorCode::invalid_argument, example.file.string() + ": turn " +
                                                         std::to_string(t.id) +
                                                         " names unknown cluster " + t.cluster);
        }
        out.push_back(it->second);
    }
    return out;
}

std::vector<int32_t> random_assignment(const Example& example, uint64_t seed) {
    std::vector<int32_t> v = label_assignment(example);
    // Synthesis labels become ordinary clusters: shift every value to be >= 0.
    const int32_t lowest = v.empty() ? 0 : *std::min_element(v.begin(), v.end());
    for (int32_t& x : v) x -= std::min(lowest, 0);
    std::mt19937_64 rng(seed);
    for (size_t i = v.size(); i > 1; --i) {
        std::swap(v[i - 1], v[uniform_below(rng, i)]);
    }
    return v;
}

std::vector<int32_t> positional_assignment(int32_t n_turns, int32_t k) {
    if (k < 1) {
        throw Error(ErrorCode::invalid_argument,
                    "positional_assignment: k must be >= 1, got " + std::to_string(k));
    }
    std::vector<int32_t> out;
    if (n_turns <= 0) return out;
    k = std::min(k, n_turns);
    const int32_t base = n_turns / k, extra = n_turns % k;
    for (int32_t b = 0; b < k; ++b) {
        out.insert(out.end(), base + (b < extra ? 1 : 0), b);
    }
    return out;
}

std::vector<int32_t> match_clusters(const std::vector<std::vector<int32_t>>& overlap) {
    const size_t rows = overlap.size();
    const size_t cols = rows ? overlap[0].size() : 0;
    if (cols > 16) {
        throw Error(ErrorCode::invalid_argument,
                    "match_clusters: at most 16 labelled clusters, got " + std::to_string(cols));
    }
    for (const auto& r : overlap) {
        if (r.size() != cols) throw Error(ErrorCode::invalid_argument, "match_clusters: ragged");
    }
    const size_t n_masks = size_t{1} << cols;
    // best[i][mask]: largest overlap rows i.. can still add when the columns in mask are taken.
    std::vector<std::vector<int64_t>> best(rows + 1, std::vector<int64_t>(n_masks, 0));
    for (size_t i = rows; i-- > 0;) {
        for (size_t mask = 0; mask < n_masks; ++mask) {
            int64_t b = best[i + 1][mask];  // row i unmatched
            for (size_t c = 0; c < cols; ++c) {
                if ((mask >> c & 1) || overlap[i][c] <= 0) continue;
                b = std::max(b, overlap[i][c] + best[i + 1][mask | size_t{1} << c]);
            }
            best[i][mask] = b;
        }
    }
    // Walk the optimum forward, preferring the lowest column (then "unmatched") on ties.
    std::vector<int32_t> out(rows, -1);
    size_t mask = 0;
    for (size_t i = 0; i < rows; ++i) {
        for (size_t c = 0; c < cols; ++c) {
            if ((mask >> c & 1) || overlap[i][c] <= 0) continue;
            if (overlap[i][c] + best[i + 1][mask | size_t{1} << c] == best[i][mask]) {
                out[i] = static_cast<int32_t>(c);
                mask |= size_t{1} << c;
                break;
            }
        }
    }
    return out;
}

Reclustered recluster(const Example& example, const std::vector<int32_t>& found) {
    if (found.size() != example.turns.size()) {
        throw Error(ErrorCode::invalid_argument,
                    example.id + ": " + std::to_string(found.size()) + " cluster values for " +
                        std::to_string(example.turns.size()) + " turns");
    }
    Reclustered r;
    const bool detected = std::count(found.begin(), found.end(), kSynthesisCluster) > 0;
    const auto syntheses = example.syntheses();
    // Labelled clusters that take part in the matching.
    std::vector<const Cluster*> labels = example.topics();
    if (!detected) labels.insert(labels.end(), syntheses.begin(), syntheses.end());
    std::map<std::string, size_t> label_index;
    for (size_t i = 0; i < labels.size(); ++i) label_index[labels[i]->id] = i;

    std::map<int32_t, size_t> row_of;
    for (int32_t f : found) {
        if (f == kSynthesisCluster) continue;
        if (row_of.emplace(f, r.found_ids.size()).second) r.found_ids.push_back(f);
    }
    std::vector<std::vector<int32_t>> overlap(r.found_ids.size(),
                                              std::vector<int32_t>(labels.size(), 0));
    for (size_t t = 0; t < found.size(); ++t) {
        if (found[t] == kSynthesisCluster) continue;
        const auto it = label_index.find(example.turns[t].cluster);
        if (it != label_index.end()) ++overlap[row_of[found[t]]][it->second];
    }
    const std::vector<int32_t> match = match_clusters(overlap);

    Example& out = r.example;
    out = example;
    out.clusters.clear();
    // Topic clusters: matched ones in label order, then unmatched ones in discovered order.
    std::vector<std::string> topic_ids;
    r.cluster_of_found.assign(r.found_ids.size(), "");
    for (size_t li = 0; li < labels.size(); ++li) {
        for (size_t row = 0; row < match.size(); ++row) {
            if (match[row] != static_cast<int32_t>(li)) continue;
            r.cluster_of_found[row] = labels[li]->id;
            if (labels[li]->kind == ClusterKind::topic) {
                out.clusters.push_back(*labels[li]);
                topic_ids.push_back(labels[li]->id);
            }
        }
    }
    std::set<std::string> used_ids;
    for (size_t row = 0; row < match.size(); ++row) {
        if (match[row] >= 0) continue;
        Cluster c;
        c.kind = ClusterKind::topic;
        for (int n = static_cast<int>(row) + 1;; ++n) {  // an id no other cluster uses
            c.id = "found-" + std::to_string(n);
            if (example.find(c.id) == nullptr && !used_ids.count(c.id)) break;
        }
        used_ids.insert(c.id);
        c.name = "Discovered topic " + std::to_string(row + 1);
        r.cluster_of_found[row] = c.id;
        out.clusters.push_back(c);
        topic_ids.push_back(c.id);
    }
    for (const Cluster* s : syntheses) {
        Cluster c = *s;
        std::vector<std::string> deps = topic_ids;
        for (const std::string& d : s->depends_on) {
            const Cluster* dc = example.find(d);
            if (dc != nullptr && dc->kind == ClusterKind::synthesis) deps.push_back(d);
        }
        c.depends_on = deps;
        out.clusters.push_back(std::move(c));
    }
    const std::string synthesis_id = syntheses.empty() ? "" : syntheses.back()->id;
    for (size_t t = 0; t < found.size(); ++t) {
        if (found[t] == kSynthesisCluster) {
            if (synthesis_id.empty()) {
                throw Error(ErrorCode::invalid_argument,
                            example.id +
                                ": turns detected as synthesis but the example has no "
                                "synthesis cluster");
            }
            out.turns[t].cluster = synthesis_id;
        } else {
            out.turns[t].cluster = r.cluster_of_found[row_of[found[t]]];
        }
    }
    return r;
}

}  // namespace rdic
