// Agreement between two partitions of the same items: Adjusted Rand Index and Normalized Mutual
// Information. Pure functions; labels are arbitrary integers (only equality matters).
//
//   std::vector<int32_t> truth = {0, 0, 1, 1}, found = {5, 5, 7, 9};
//   double ari = rdic::adjusted_rand_index(truth, found);        // 0.571...
//   double nmi = rdic::normalized_mutual_info(truth, found);     // 0.8
//
// ARI (Hubert & Arabie 1985) from the pair-confusion counts: 1 for identical partitions, about 0
// for a random one of the same sizes, negative when worse than chance. Degenerate inputs where no
// pair is split differently (both partitions identical, e.g. both all-singletons or both one
// cluster) give 1.
// NMI = MI(U, V) / ((H(U) + H(V)) / 2): the arithmetic-mean normalisation (scikit-learn's default),
// natural logarithms (the base cancels). Two one-cluster partitions give 1; MI = 0 gives 0.
// Both throw rdic::Error(invalid_argument) when the sizes differ; empty inputs give 1.
#pragma once

#include <cstdint>
#include <vector>

namespace rdic {

double adjusted_rand_index(const std::vector<int32_t>& truth, const std::vector<int32_t>& found);
double normalized_mutual_info(const std::vector<int32_t>& truth, const std::vector<int32_t>& found);

}  // namespace rdic
