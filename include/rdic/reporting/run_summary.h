// summary.txt of a results directory: per condition, pairs run and failed and the mean costs of
// the successful ones, built from every record in results.jsonl (not only the last invocation's).
//
//   rdic::write_file_atomic(dir / "summary.txt",
//                           rdic::run_summary(rdic::read_results(dir / "results.jsonl"), order));
#pragma once

#include <string>
#include <vector>

#include "rdic/records/result_record.h"

namespace rdic {

// `conditions`: the order of the rows (conditions recorded but not listed follow in file order).
// One record per pair counts (current_records: a failure later resumed counts as the success).
std::string run_summary(const ResultsLog& log, const std::vector<std::string>& conditions);

}  // namespace rdic
