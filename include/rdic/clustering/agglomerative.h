// Agglomerative (hierarchical) clustering on cosine distance, with the number of clusters given or
// chosen by the silhouette. Pure and deterministic: the same vectors give the same partition on
// every machine.
//
//   rdic::DistanceMatrix d = rdic::cosine_distances(embeddings);       // n x n
//   rdic::Dendrogram tree = rdic::average_linkage(d);
//   std::vector<int32_t> labels = rdic::cut(tree, 3);                  // 3 clusters
//   rdic::KChoice best = rdic::choose_k_by_silhouette(d, tree, 2, 8);   // or let the data choose
//
// Linkage: average (UPGMA). The distance between two clusters is the mean cosine distance over
// all pairs of their members. Single linkage chains topics together through one bridging turn
// (an introduction that mentions every topic); complete linkage lets one atypical turn keep two
// halves of a topic apart; Ward's criterion assumes squared Euclidean distances, which cosine
// distance is not. Average linkage is the usual choice for cosine on text embeddings and is what
// scipy calls `method='average'` (the unit tests compare merge heights with scipy's).
// Ties are broken towards the lowest cluster indices, so the result never depends on iteration
// order. Cost: O(n^3) time, O(n^2) memory; meant for the turns of one conversation (n <~ 500).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace rdic {

// Symmetric n x n matrix of distances with a zero diagonal, row-major.
struct DistanceMatrix {
    int32_t n = 0;
    std::vector<double> d;
    double at(int32_t i, int32_t j) const { return d[static_cast<size_t>(i) * n + j]; }
};

// Cosine distance 1 - cos(a, b), in [0, 2]. A zero vector is at distance 1 from everything.
// Throws invalid_argument when the sizes differ.
double cosine_distance(std::span<const float> a, std::span<const float> b);
// All pairwise cosine distances. Throws invalid_argument when the vectors' sizes differ.
DistanceMatrix cosine_distances(const std::vector<std::vector<float>>& vectors);

// One merge, in scipy's linkage-matrix convention: items are clusters 0..n-1, the i-th merge
// creates cluster n + i.
struct Merge {
    int32_t a = 0, b = 0;  // merged clusters, a < b
    double distance = 0;   // average-linkage distance between them
    int32_t size = 0;      // items in the new cluster
};

struct Dendrogram {
    int32_t n = 0;
    std::vector<Merge> merges;  // n - 1 merges, in order (non-decreasing distance)
};

// Average-linkage dendrogram of `d`. Throws invalid_argument for a non-square matrix.
Dendrogram average_linkage(const DistanceMatrix& d);

// Flat clustering with `k` clusters (1 <= k <= n): the first n - k merges applied. Labels are
// 0..k-1 numbered by each cluster's first item (item 0 is in cluster 0). Throws invalid_argument
// for k outside [1, n] (n = 0 gives an empty vector for any k).
std::vector<int32_t> cut(const Dendrogram& tree, int32_t k);

// Mean silhouette coefficient of `labels` over `d` (Rousseeuw 1987): per item
// (b - a) / max(a, b) with a = mean distance to its own cluster, b = smallest mean distance to
// another cluster; items alone in their cluster score 0. Defined for 2 <= clusters <= n - 1;
// returns 0 otherwise.
double silhouette(const DistanceMatrix& d, const std::vector<int32_t>& labels);

struct KChoice {
    int32_t k = 1;
    double score = 0;            // silhouette of the chosen k (0 when k = 1)
    std::vector<double> scores;  // silhouette for k = k_min + i
};

// The k in [k_min, min(k_max, n - 1)] whose cut has the highest silhouette (ties: smaller k).
// When that range is empty (n <= k_min) there is nothing to compare: k = n, every item alone.
// Throws invalid_argument when k_min < 2 or k_max < k_min.
KChoice choose_k_by_silhouette(const DistanceMatrix& d, const Dendrogram& tree, int32_t k_min,
                               int32_t k_max);

}  // namespace rdic
