#include "rdic/clustering/agglomerative.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "rdic/error.h"

namespace rdic {

double cosine_distance(std::span<const float> a, std::span<const float> b) {
    if (a.size() != b.size()) {
        throw Error(ErrorCode::invalid_argument, "cosine_distance: vectors of sizes " +
                                                     std::to_string(a.size()) + " and " +
                                                     std::to_string(b.size()));
    }
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    if (na == 0 || nb == 0) return 1.0;
    const double cos = dot / (std::sqrt(na) * std::sqrt(nb));
    return 1.0 - std::clamp(cos, -1.0, 1.0);
}

DistanceMatrix cosine_distances(const std::vector<std::vector<float>>& vectors) {
    DistanceMatrix m;
    m.n = static_cast<int32_t>(vectors.size());
    m.d.assign(static_cast<size_t>(m.n) * m.n, 0.0);
    for (int32_t i = 0; i < m.n; ++i) {
        for (int32_t j = i + 1; j < m.n; ++j) {
            const double d = cosine_distance(vectors[i], vectors[j]);
            m.d[static_cast<size_t>(i) * m.n + j] = d;
            m.d[static_cast<size_t>(j) * m.n + i] = d;
        }
    }
    return m;
}

Dendrogram average_linkage(const DistanceMatrix& d) {
    if (d.n < 0 || d.d.size() != static_cast<size_t>(d.n) * d.n) {
        throw Error(ErrorCode::invalid_argument, "average_linkage: the distance matrix is not " +
                                                     std::to_string(d.n) + " x " +
                                                     std::to_string(d.n));
    }
    const int32_t n = d.n;
    Dendrogram tree;
    tree.n = n;
    if (n < 2) return tree;
    // Working copy of inter-cluster distances between active slots; slot i holds one cluster.
    std::vector<double> dist = d.d;
    std::vector<int32_t> id(n), size(n, 1);
    std::iota(id.begin(), id.end(), 0);
    std::vector<bool> active(n, true);
    auto at = [&](int32_t i, int32_t j) -> double& { return dist[static_cast<size_t>(i) * n + j]; };
    for (int32_t step = 0; step < n - 1; ++step) {
        // Closest active pair; strict < keeps the first (lowest slot indices) on ties.
        int32_t bi = -1, bj = -1;
        double best = std::numeric_limits<double>::infinity();
        for (int32_t i = 0; i < n; ++i) {
            if (!active[i]) continue;
            for (int32_t j = i + 1; j < n; ++j) {
                if (active[j] && at(i, j) < best) {
                    best = at(i, j);
                    bi = i;
                    bj = j;
                }
            }
        }
        Merge m;
        m.a = std::min(id[bi], id[bj]);
        m.b = std::max(id[bi], id[bj]);
        m.distance = best;
        m.size = size[bi] + size[bj];
        tree.merges.push_back(m);
        // Lance-Williams update for average linkage: the size-weighted mean of the two rows.
        for (int32_t k = 0; k < n; ++k) {
            if (!active[k] || k == bi || k == bj) continue;
            const double v = (size[bi] * at(bi, k) + size[bj] * at(bj, k)) / m.size;
            at(bi, k) = v;
            at(k, bi) = v;
        }
        active[bj] = false;
        size[bi] = m.size;
        id[bi] = n + step;
    }
    return tree;
}

std::vector<int32_t> cut(const Dendrogram& tree, int32_t k) {
    const int32_t n = tree.n;
    if (n == 0) return {};
    if (k < 1 || k > n) {
        throw Error(ErrorCode::invalid_argument, "cut: k = " + std::to_string(k) + " clusters of " +
                                                     std::to_string(n) + " items (must be 1.." +
                                                     std::to_string(n) + ")");
    }
    // Union-find over the 2n - 1 dendrogram nodes.
    std::vector<int32_t> parent(2 * static_cast<size_t>(n) - 1);
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int32_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    for (int32_t i = 0; i < n - k; ++i) {
        const Merge& m = tree.merges[i];
        parent[find(m.a)] = n + i;
        parent[find(m.b)] = n + i;
    }
    std::vector<int32_t> labels(n);
    std::vector<int32_t> label_of_root(parent.size(), -1);
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t r = find(i);
        if (label_of_root[r] < 0) label_of_root[r] = next++;
        labels[i] = label_of_root[r];
    }
    return labels;
}

double silhouette(const DistanceMatrix& d, const std::vector<int32_t>& labels) {
    const int32_t n = d.n;
    if (static_cast<int32_t>(labels.size()) != n) {
        throw Error(ErrorCode::invalid_argument, "silhouette: " + std::to_string(labels.size()) +
                                                     " labels for " + std::to_string(n) + " items");
    }
    std::vector<int32_t> ids(labels.begin(), labels.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const auto n_clusters = static_cast<int32_t>(ids.size());
    if (n_clusters < 2 || n_clusters > n - 1) return 0.0;
    auto index = [&](int32_t label) {
        return static_cast<size_t>(std::lower_bound(ids.begin(), ids.end(), label) - ids.begin());
    };
    std::vector<int32_t> count(n_clusters, 0);
    for (int32_t l : labels) ++count[index(l)];
    double total = 0;
    std::vector<double> sum(n_clusters);
    for (int32_t i = 0; i < n; ++i) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int32_t j = 0; j < n; ++j) {
            if (j != i) sum[index(labels[j])] += d.at(i, j);
        }
        const size_t own = index(labels[i]);
        if (count[own] == 1) continue;  // s = 0
        const double a = sum[own] / (count[own] - 1);
        double b = std::numeric_limits<double>::infinity();
        for (int32_t c = 0; c < n_clusters; ++c) {
            if (static_cast<size_t>(c) != own) b = std::min(b, sum[c] / count[c]);
        }
        const double denom = std::max(a, b);
        if (denom > 0) total += (b - a) / denom;
    }
    return total / n;
}

KChoice choose_k_by_silhouette(const DistanceMatrix& d, const Dendrogram& tree, int32_t k_min,
                               int32_t k_max) {
    if (k_min < 2 || k_max < k_min) {
        throw Error(ErrorCode::invalid_argument,
                    "choose_k_by_silhouette: need 2 <= k_min <= k_max, got k_min = " +
                        std::to_string(k_min) + ", k_max = " + std::to_string(k_max));
    }
    KChoice choice;
    const int32_t hi = std::min(k_max, d.n - 1);
    if (hi < k_min) {
        choice.k = d.n;
        return choice;
    }
    choice.score = -std::numeric_limits<double>::infinity();
    for (int32_t k = k_min; k <= hi; ++k) {
        const double s = silhouette(d, cut(tree, k));
        choice.scores.push_back(s);
        if (s > choice.score) {
            choice.score = s;
            choice.k = k;
        }
    }
    return choice;
}

}  // namespace rdic
