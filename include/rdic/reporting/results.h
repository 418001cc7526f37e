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
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rdic/clock.h"
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

// Which clustering produced the clusters a record ran with (`rdic run --clusters METHOD`).
struct ClusteringRecord {
    std::string method = "labels";
    std::map<std::string, std::string> parameters;            // the method's options, as given
    double ari = 1, nmi = 1;                                  // against the example's labels
    int32_t k = 0;                                            // topic clusters found
    std::vector<std::pair<int32_t, std::string>> assignment;  // turn id -> cluster id it ran in
    double time_ms = 0;                                       // clustering time for the example
};

struct RunConfig {
    std::vector<std::string> conditions;
    int32_t max_tokens = 0;
    SamplerOptions sampling;
    std::string system_prompt;
    bool seed_compat = false;  // the POC's prompts (PromptOptions::seed_compat)
    std::string question_wording = "value-only";  // PromptOptions::allow_unknown
    bool questions = true;                              // fact questions asked (dataset v2)
    int32_t answer_tokens = 0;                          // token limit of each question's reply
    bool naive = false;
    std::string kv_layout = "auto";                         // auto, unified, per_sequence
    std::string clusters = "labels";                        // clustering method
    std::map<std::string, std::string> cluster_parameters;  // its options
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
    std::optional<ClusteringRecord> clustering;  // absent: the labels (older records)
    std::string finished_at;                     // ISO 8601 UTC
};

std::string to_json_line(const RunRecord& record);  // no trailing newline

// Appends lines to a JSON-lines file, each flushed as written. Opening first ends a partial last
// line that a process killed mid-write left behind, so the next line starts on its own (readers
// skip the partial one). Shared by results.jsonl and metrics.jsonl.
class JsonlAppender {
public:
    explicit JsonlAppender(const std::filesystem::path& file);  // throws file_not_found
    void append(std::string_view line);  // `line` without its newline; throws backend_failure

private:
    std::filesystem::path file_;
    std::ofstream out_;
};

class ResultsWriter {
public:
    explicit ResultsWriter(const std::filesystem::path& file) : lines_(file) {}
    void append(const RunRecord& record) { lines_.append(to_json_line(record)); }

private:
    JsonlAppender lines_;
};

// (example id, condition) pairs recorded without error. Unparseable lines (a run killed while
// writing) are skipped and counted in *n_skipped.
std::set<std::pair<std::string, std::string>> finished_pairs(const std::filesystem::path& file,
                                                             int* n_skipped = nullptr);

// Writes `text` to `file` (whole file, replaced).
void write_text_file(const std::filesystem::path& file, const std::string& text);

std::string config_json(const RunConfig& config, const ModelIdentity& model,
                        const std::vector<std::string>& data_files);

}  // namespace rdic
