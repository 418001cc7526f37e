// Turn -> cluster assignments of one example: the labelled one, the two controls, the one-to-one
// matching of discovered clusters to labelled ones, and the re-clustered Example that
// `rdic run --clusters METHOD` executes. Pure functions of the example; no model.
//
//   std::vector<int32_t> truth = rdic::label_assignment(example);
//   std::vector<int32_t> found = rdic::random_assignment(example, /*seed=*/1);
//   double ari = rdic::adjusted_rand_index(truth, found);
//   rdic::Reclustered r = rdic::recluster(example, found);   // r.example runs like any other
//
// An assignment has one entry per turn, in conversation order. Values >= 0 are discovered
// clusters (any integers; only equality matters). kSynthesisCluster marks turns detected as
// synthesis requests: they always go to the example's synthesis cluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic {

inline constexpr int32_t kSynthesisCluster = -1;

// The labels as an assignment: topic clusters 0.. in example.topics() order, synthesis clusters
// kSynthesisCluster, kSynthesisCluster - 1, ... in dependency order.
std::vector<int32_t> label_assignment(const Example& example);

// Control: the labels' values shuffled over the turns (Fisher-Yates with std::mt19937_64 and
// rejection sampling, so the same seed gives the same assignment on every platform). Same
// cluster sizes as the labels; synthesis labels become ordinary discovered clusters.
std::vector<int32_t> random_assignment(const Example& example, uint64_t seed);

// Control: `n_turns` turns cut into `k` contiguous blocks of sizes differing by at most one (the
// first n_turns % k blocks one larger), numbered 0..k-1. Throws invalid_argument for k < 1;
// k > n_turns gives n_turns singletons.
std::vector<int32_t> positional_assignment(int32_t n_turns, int32_t k);

// Maximum-weight one-to-one matching of rows (discovered clusters) to columns (labelled ones):
// overlap[r][c] is the number of turns they share. Returns per row the matched column or -1.
// Only pairs with overlap > 0 are matched; the total matched overlap is maximal (exact: dynamic
// programming over column subsets; ties go to the lower column for the lower row). Throws
// invalid_argument for more than 16 columns or ragged rows.
std::vector<int32_t> match_clusters(const std::vector<std::vector<int32_t>>& overlap);

struct Reclustered {
    Example example;                 // turns re-labelled; clusters rebuilt (see recluster())
    std::vector<int32_t> found_ids;  // the distinct discovered values, in first-turn order
    std::vector<std::string> cluster_of_found;  // per found_ids entry: the cluster id it became
};

// The example with every turn moved to its discovered cluster. Discovered clusters are matched
// one-to-one to labelled ones by maximum turn overlap (match_clusters; when any turn is
// kSynthesisCluster, those go to the last synthesis cluster and only topic labels take part in
// the matching, else synthesis labels take part too). A matched cluster inherits the label's id,
// kind, name, task, terminology, canaries and reference, so evaluation stays meaningful; an
// unmatched one becomes a topic cluster "found-N" (N = its position in found_ids, from 1) with a
// generic name and no terminology, canaries or reference. Topic labels left without turns are
// dropped; synthesis clusters are kept (with no turns they still get the topic outputs), and
// depend on every topic cluster of the result plus the synthesis clusters they depended on.
// Throws invalid_argument when found.size() != example.turns.size().
Reclustered recluster(const Example& example, const std::vector<int32_t>& found);

}  // namespace rdic
