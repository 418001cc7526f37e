// results.jsonl: one JSON record per (example, condition), appended and flushed as each finishes.
//
//   rdic::ResultsWriter w(out_dir / "results.jsonl");      // appends
//   w.append(record);                                     // one line, flushed
//   auto done = rdic::finished_pairs(out_dir / "results.jsonl");   // for --resume
//
// A run killed at any point leaves at most one partial last line, which readers skip.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rdic/isolation/executor.h"

namespace rdic {

struct ModelIdentity {
    std::string file;
    std::string path;  // absolute path when the run started
    uint64_t bytes = 0;
    std::string sha256_prefix;  // first 16 hex digits
    std::string architecture;
    std::string name;
};

struct RunConfig {
    std::vector<std::string> conditions;
    int32_t max_tokens = 0;
    SamplerOptions sampling;
    std::string system_prompt;
    bool name_topics = false;
    bool seed_compat = false;
    bool naive = false;
};

struct RunRecord {
    std::string example_id;
    std::string file;
    std::string domain;
    std::string split;
    Condition condition = Condition::semantic;
    std::optional<ConditionResult> result;  // absent when it failed
    std::string error;                      // set when it failed
    ModelIdentity model;
    RunConfig config;
    std::string finished_at;  // ISO 8601 UTC
};

std::string to_json_line(const RunRecord& record);  // no trailing newline

class ResultsWriter {
public:
    explicit ResultsWriter(const std::filesystem::path& file);  // throws file_not_found
    void append(const RunRecord& record);                       // writes one line and flushes

private:
    std::filesystem::path file_;
    std::ofstream out_;
};

// (example id, condition) pairs recorded without error. Unparseable lines (a run killed while
// writing) are skipped and counted in *n_skipped.
std::set<std::pair<std::string, std::string>> finished_pairs(const std::filesystem::path& file,
                                                             int* n_skipped = nullptr);

// Writes `text` to `file` (whole file, replaced).
void write_text_file(const std::filesystem::path& file, const std::string& text);

std::string config_json(const RunConfig& config, const ModelIdentity& model,
                        const std::vector<std::string>& data_files);

std::string iso8601_utc_now();

}  // namespace rdic
