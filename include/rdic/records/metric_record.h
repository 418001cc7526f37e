// metrics.jsonl: one record per (metric set, example, condition, output or question), written by
// `rdic eval`, read by eval (what is already computed) and by `rdic report`. Plain data; no engine
// dependency. The one table of what each metric set's fields mean (metric_fields()) drives both
// the reader's checks and the report's metric ids ("topic.foreign_per_100_words", ...).
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

namespace rdic {

// How a field becomes a report value.
enum class MetricTake {
    value,     // a number, as it is
    flag,      // true/false -> 1/0
    count,     // an array -> its length
    nonempty,  // an array -> 1 when not empty
    mean,      // an object of numbers -> their mean (skipped when empty)
    none,      // checked, not reported
};

struct MetricField {
    const char* set;    // "contamination/v1"
    const char* field;  // key in the record
    const char*
        kinds;      // output kinds it applies to, comma-separated: topic,synthesis,question,cross
    bool required;  // for those kinds
    MetricTake take;
    double lo, hi;       // range of a number (or of each number of a mean)
    const char* metric;  // report id is KIND.METRIC ("" for none)
    const char*
        only_if;  // a flag field that must be true for the value to be reported ("" = always)
};

// Every field the reader checks, per metric set. The metric ids it yields (kind + "." + metric)
// are exactly the ids of report_metrics() other than the example.* resources (a unit test holds
// the two together).
const std::vector<MetricField>& metric_fields();
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
