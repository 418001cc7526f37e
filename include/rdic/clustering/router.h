// Online routing: each new turn joins the nearest existing cluster, or opens a new one when even
// the nearest is farther than a threshold. Incremental: a turn costs O(clusters x dim); earlier
// turns are never looked at again. This is the routing a server uses for a conversation that
// arrives turn by turn.
//
//   rdic::OnlineRouter router(dim, {.new_cluster_distance = 0.25});
//   router.assign(0, embedding_of_turn_1);               // seed with clusters known so far
//   rdic::RouteDecision r = router.add(embedding_of_new_turn);
//   if (r.opened) ... a new topic started (r.cluster == router.n_clusters() - 1)
//
// Distance: cosine distance between the turn and the cluster's centroid (the sum of its members'
// vectors, each L2-normalised first, so long and short turns weigh the same). Ties go to the
// lowest cluster index. Deterministic.
// Thread-safety: none; one router per conversation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace rdic {

struct RouterOptions {
    // Open a new cluster when the nearest centroid is farther than this (cosine distance).
    double new_cluster_distance = 0.25;
    // Never more clusters than this (the nearest is taken instead); 0 = no limit.
    int32_t max_clusters = 0;
};

struct RouteDecision {
    int32_t cluster = 0;   // the cluster the turn went (or would go) to
    double distance = 0;   // cosine distance to that cluster's centroid (0 for a new cluster)
    double nearest = 2.0;  // distance to the nearest existing centroid (2 when there were none)
    bool opened = false;   // a new cluster was (or would be) opened
};

class OnlineRouter {
public:
    // Throws invalid_argument for dim < 1 or a threshold outside [0, 2].
    OnlineRouter(int32_t dim, const RouterOptions& options = {});

    // Where `v` would go, without changing anything. Throws invalid_argument for a wrong size.
    RouteDecision route(std::span<const float> v) const;
    // Cosine distance from `v` to every centroid, in cluster order (throws for a wrong size).
    std::vector<double> distances(std::span<const float> v) const;
    // Routes `v` and adds it to that cluster (opening it if needed).
    RouteDecision add(std::span<const float> v);
    // Adds `v` to cluster `cluster` (0 <= cluster <= n_clusters(); n_clusters() opens a new one):
    // for clusters already known, e.g. labelled turns or a previous clustering.
    void assign(int32_t cluster, std::span<const float> v);

    int32_t n_clusters() const { return static_cast<int32_t>(counts_.size()); }
    int32_t size(int32_t cluster) const { return counts_.at(cluster); }

private:
    double distance_to(int32_t cluster, std::span<const float> v) const;
    int32_t dim_;
    RouterOptions options_;
    std::vector<std::vector<double>> sums_;  // per cluster: sum of normalised member vectors
    std::vector<int32_t> counts_;
};

}  // namespace rdic
