// metrics.jsonl: one record per (metric set, example, condition, output or question), written by
// `rdic eval`, read by eval (what is already computed) and by `rdic report`. Plain data; no engine
// dependency. The one metric table (metric_catalog.h) drives both the reader's checks and the
// report's metric ids ("topic.foreign_per_100_words", ...).
//
//   rdic::MetricsLog m = rdic::read_metrics(dir / "metrics.jsonl");   // throws on a bad record
//   for (const rdic::MetricRecord& r : m.records) for (auto& [id, v] : r.values) ...
//
// A record with an unknown metric set, a missing or wrong-typed field, a value out of its range
// (chrF in [0, 100], cosine in [-1, 1], ...) or another schema version is refused with
// "FILE:LINE: /pointer: reason". Only a torn last line (a writer killed mid-line) is left out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "rdic/records/metric_catalog.h"

namespace rdic {

const std::vector<std::string>& metric_sets();  // contamination/v1, similarity/v1, ...

struct MetricRecord {
    std::string set;
    std::string example_id, condition;
    bool naive = false;
    std::string item;  // the output's cluster id, or the question id (questions/v1)
    std::string kind;  // topic, synthesis (outputs); question, cross (questions)
    std::vector<std::pair<std::string, double>> values;  // report metric id -> value
    std::string provenance_key;                          // "judge model", "embedding model", or ""
    std::string provenance;                              // its text
    std::string key() const;  // metric_key(...) of this record: one record per key
};

// The identity of a metric record: set|example|condition|[naive|]item. `rdic eval` computes a
// record only when its key is not in metrics.jsonl yet.
std::string metric_key(const std::string& set, const std::string& example_id,
                       const std::string& condition, bool naive, const std::string& item);

// Parses one line; `where` ("FILE:LINE") prefixes every error (corrupt_file).
MetricRecord parse_metric_line(const std::string& line, const std::string& where);

struct MetricsLog {
    std::vector<MetricRecord> records;
    bool torn_tail = false;
};

// A missing FILE is an empty log (nothing evaluated yet); a directory or an unreadable file
// throws file_not_found; a bad record throws corrupt_file; so does a key recorded twice.
MetricsLog read_metrics(const std::filesystem::path& file);

}  // namespace rdic
