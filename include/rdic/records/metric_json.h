// The writer of metrics.jsonl records (library code that builds them with nlohmann::json).
//
//   appender.append(rdic::metric_line(record));   // adds "schema"; throws if the reader would
//   refuse it
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace rdic {

// `record` with the schema version added, as one line. Checked with the reader first: a record
// the reader would refuse is a programmer error and throws invalid_argument naming the field.
std::string metric_line(nlohmann::json record);

}  // namespace rdic
