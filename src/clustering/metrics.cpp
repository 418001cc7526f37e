#include "rdic/clustering/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "rdic/error.h"

namespace rdic {

namespace {

// Contingency table of two labelings with dense row/column indices.
struct Contingency {
    std::vector<std::vector<double>> n;  // n[i][j]: items with truth class i and found class j
    std::vector<double> rows, cols;
    double total = 0;
};

std::vector<int32_t> dense(const std::vector<int32_t>& labels, size_t* n_classes) {
    std::map<int32_t, int32_t> ids;
    std::vector<int32_t> out;
    out.reserve(labels.size());
    for (int32_t l : labels) {
        const auto it = ids.emplace(l, static_cast<int32_t>(ids.size())).first;
        out.push_back(it->second);
    }
    *n_classes = ids.size();
    return out;
}

Contingency contingency(const std::vector<int32_t>& truth, const std::vector<int32_t>& found,
                        const char* what) {
    if (truth.size() != found.size()) {
        throw Error(ErrorCode::invalid_argument, std::string(what) +
                                                     ": the two labelings have different sizes (" +
                                                     std::to_string(truth.size()) + " and " +
                                                     std::to_string(found.size()) + ")");
    }
    size_t nt = 0, nf = 0;
    const auto t = dense(truth, &nt);
    const auto f = dense(found, &nf);
    Contingency c;
    c.n.assign(nt, std::vector<double>(nf, 0.0));
    c.rows.assign(nt, 0.0);
    c.cols.assign(nf, 0.0);
    for (size_t i = 0; i < t.size(); ++i) {
        c.n[t[i]][f[i]] += 1;
        c.rows[t[i]] += 1;
        c.cols[f[i]] += 1;
    }
    c.total = static_cast<double>(t.size());
    return c;
}

double pairs(double x) {
    return x * (x - 1) / 2;
}

double entropy(const std::vector<double>& counts, double total) {
    double h = 0;
    for (double c : counts) {
        if (c > 0) h -= c / total * std::log(c / total);
    }
    return h;
}

}  // namespace

double adjusted_rand_index(const std::vector<int32_t>& truth, const std::vector<int32_t>& found) {
    const Contingency c = contingency(truth, found, "adjusted_rand_index");
    if (c.total < 2) return 1.0;
    // Pair-confusion counts: pairs together in both (tp), only in truth (fn), only in found (fp).
    double together_both = 0, together_truth = 0, together_found = 0;
    for (const auto& row : c.n) {
        for (double x : row) together_both += pairs(x);
    }
    for (double r : c.rows) together_truth += pairs(r);
    for (double k : c.cols) together_found += pairs(k);
    const double tp = together_both;
    const double fn = together_truth - tp;
    const double fp = together_found - tp;
    const double tn = pairs(c.total) - tp - fn - fp;
    if (fn == 0 && fp == 0) return 1.0;
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

double normalized_mutual_info(const std::vector<int32_t>& truth,
                              const std::vector<int32_t>& found) {
    const Contingency c = contingency(truth, found, "normalized_mutual_info");
    if (c.total == 0) return 1.0;
    if (c.rows.size() == 1 && c.cols.size() == 1) return 1.0;
    double mi = 0;
    for (size_t i = 0; i < c.rows.size(); ++i) {
        for (size_t j = 0; j < c.cols.size(); ++j) {
            const double nij = c.n[i][j];
            if (nij == 0) continue;
            mi += nij / c.total * std::log(nij * c.total / (c.rows[i] * c.cols[j]));
        }
    }
    if (mi <= 0) return 0.0;
    const double norm = (entropy(c.rows, c.total) + entropy(c.cols, c.total)) / 2;
    return norm > 0 ? std::min(1.0, mi / norm) : 1.0;
}

}  // namespace rdic
