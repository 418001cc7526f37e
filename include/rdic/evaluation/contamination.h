// Contamination metrics of one output against its example: which topics' terms and canaries it
// carries. Pure functions of text and Example; no model.
//
//   rdic::OutputMetrics m = rdic::evaluate_output(example, "db", output_text);
//   m.foreign_hits, m.foreign_per_100_words, m.leaked_canaries, m.own_term_coverage ...
//
// Matching: case-insensitive (ASCII), whole words (a term must not touch a letter or digit on
// either side; bytes of non-ASCII characters count as letters), runs of whitespace in terms and
// text compare equal, multi-word terms allowed. Overlapping occurrences are counted once each
// starting position.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic {

// Occurrences of `term` in `text` under the matching rules above; 0 for an empty term.
int64_t count_term(std::string_view text, std::string_view term);
int64_t count_words(std::string_view text);

struct OutputMetrics {
    std::string cluster_id;
    ClusterKind kind = ClusterKind::topic;
    int64_t n_words = 0;
    int64_t own_hits = 0;      // occurrences of the cluster's own terms
    int64_t foreign_hits = 0;  // occurrences of other topic clusters' terms
    double foreign_per_100_words = 0;
    double foreign_share = 0;      // foreign / (own + foreign); 0 when no term occurs
    double own_term_coverage = 0;  // distinct own terms present / own terms
    std::map<std::string, int64_t> foreign_hits_by_cluster;
    std::vector<std::string> leaked_canaries;  // other topic clusters' canaries present
    std::vector<std::string> own_canaries;     // the cluster's own canaries present
    // Synthesis outputs: per topic cluster, the share of its distinct terms and of its canaries
    // that the output carries.
    std::map<std::string, double> topic_term_coverage;
    std::map<std::string, double> topic_canary_coverage;
};

// Metrics of `text` as the output of `cluster_id`. A topic output's foreign clusters are the
// other topic clusters; a synthesis output has no foreign cluster (it should carry them all).
OutputMetrics evaluate_output(const Example& example, const std::string& cluster_id,
                              std::string_view text);

}  // namespace rdic
