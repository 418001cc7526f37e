// The one table of metrics: every metric id a report can hold ("topic.chrf", "question.lure",
// "example.kv_peak_mib", ...), in display order, with how it is shown and where its value comes
// from. The metrics.jsonl reader (metric_record.h) checks and extracts fields by it; the report
// (reporting/report.h) shows it. Adding a metric is adding a row here.
#pragma once

#include <vector>

namespace rdic {

// How a record's field becomes a value.
enum class MetricTake {
    value,     // a number, as it is
    flag,      // true/false -> 1/0
    count,     // an array -> its length
    nonempty,  // an array -> 1 when not empty
    mean,      // an object of numbers -> their mean (skipped when empty)
    none,      // checked, not reported
};

struct MetricDef {
    // "KIND.NAME": KIND is the record kind it applies to (topic, synthesis: outputs; question,
    // cross: fact questions) or "example" (computed from results.jsonl, no metrics field).
    const char* id;
    const char* label;  // in tables and charts; "" for a field that is checked, not reported
    const char* group;  // contamination, similarity, judge, questions, copy, length, resources
    bool lower_is_better;
    int decimals;
    // The source: field `field` of a metrics.jsonl record of metric set `set` ("" for example.*).
    const char* set;
    const char* field;
    bool required;  // for records of this kind
    MetricTake take;
    double lo, hi;        // range of a number (or of each number of a mean)
    const char* only_if;  // a flag field that must be true for the value to count ("" = always)
};

const std::vector<MetricDef>& metric_catalog();

}  // namespace rdic
