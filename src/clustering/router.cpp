#include "rdic/clustering/router.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "rdic/error.h"

namespace rdic {

namespace {

void check_size(std::span<const float> v, int32_t dim) {
    if (static_cast<int32_t>(v.size()) != dim) {
        throw Error(ErrorCode::invalid_argument, "OnlineRouter: vector of size " +
                                                     std::to_string(v.size()) + ", expected " +
                                                     std::to_string(dim));
    }
}

}  // namespace

OnlineRouter::OnlineRouter(int32_t dim, const RouterOptions& options)
    : dim_(dim), options_(options) {
    if (dim < 1) throw Error(ErrorCode::invalid_argument, "OnlineRouter: dim must be >= 1");
    if (!(options.new_cluster_distance >= 0 && options.new_cluster_distance <= 2)) {
        throw Error(ErrorCode::invalid_argument,
                    "OnlineRouter: new_cluster_distance must be in [0, 2], got " +
                        std::to_string(options.new_cluster_distance));
    }
    if (options.max_clusters < 0) {
        throw Error(ErrorCode::invalid_argument, "OnlineRouter: max_clusters must be >= 0");
    }
}

double OnlineRouter::distance_to(int32_t cluster, std::span<const float> v) const {
    const auto& c = sums_[cluster];
    double dot = 0, nc = 0, nv = 0;
    for (int32_t i = 0; i < dim_; ++i) {
        dot += c[i] * v[i];
        nc += c[i] * c[i];
        nv += static_cast<double>(v[i]) * v[i];
    }
    if (nc == 0 || nv == 0) return 1.0;
    return 1.0 - std::clamp(dot / (std::sqrt(nc) * std::sqrt(nv)), -1.0, 1.0);
}

RouteDecision OnlineRouter::route(std::span<const float> v) const {
    check_size(v, dim_);
    RouteDecision r;
    int32_t best = -1;
    for (int32_t c = 0; c < n_clusters(); ++c) {
        const double d = distance_to(c, v);
        if (d < r.nearest) {
            r.nearest = d;
            best = c;
        }
    }
    const bool full = options_.max_clusters > 0 && n_clusters() >= options_.max_clusters;
    if (best < 0 || (r.nearest > options_.new_cluster_distance && !full)) {
        r.opened = true;
        r.cluster = n_clusters();
        r.distance = 0;
    } else {
        r.cluster = best;
        r.distance = r.nearest;
    }
    return r;
}

std::vector<double> OnlineRouter::distances(std::span<const float> v) const {
    check_size(v, dim_);
    std::vector<double> d(counts_.size());
    for (int32_t c = 0; c < n_clusters(); ++c) d[c] = distance_to(c, v);
    return d;
}

RouteDecision OnlineRouter::add(std::span<const float> v) {
    const RouteDecision r = route(v);
    assign(r.cluster, v);
    return r;
}

void OnlineRouter::assign(int32_t cluster, std::span<const float> v) {
    check_size(v, dim_);
    if (cluster < 0 || cluster > n_clusters()) {
        throw Error(ErrorCode::invalid_argument,
                    "OnlineRouter: cluster " + std::to_string(cluster) + " of " +
                        std::to_string(n_clusters()) + " (a new one is " +
                        std::to_string(n_clusters()) + ")");
    }
    if (cluster == n_clusters()) {
        sums_.emplace_back(dim_, 0.0);
        counts_.push_back(0);
    }
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    norm = std::sqrt(norm);
    auto& s = sums_[cluster];
    if (norm > 0) {
        for (int32_t i = 0; i < dim_; ++i) s[i] += v[i] / norm;
    }
    ++counts_[cluster];
}

}  // namespace rdic
