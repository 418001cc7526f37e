// results.jsonl: one record per (example, condition) run, appended as each finishes. Plain data;
// no engine dependency. One writer (result_to_line) and one reader (read_results); `rdic run`,
// `rdic eval`, `rdic report` and --resume all read through read_results.
//
//   rdic::ResultsLog log = rdic::read_results(dir / "results.jsonl");  // throws on a bad record
//   for (const rdic::ResultRecord* r : rdic::current_records(log)) ...  // one per pair
//
// A record that is not JSON, has a missing or wrong-typed field, or another schema version is
// refused with "FILE:LINE: /pointer: reason", never skipped or defaulted. The only line left out
// is a torn last line without its newline (a writer killed mid-line; the next writer cuts it).
// A pair (example, condition, execution) may hold several records: failures, then at most one
// success (`--resume` retries failed pairs). current_records() keeps the success, else the
// latest failure; a second success for one pair (two writers) is refused, naming both lines.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rdic/records/run_config.h"

namespace rdic {

// Which clustering produced the clusters a record ran with (`rdic run --clusters METHOD`).
struct ClusteringRecord {
    std::string method = "labels";
    std::map<std::string, std::string> parameters;            // the method's options, as given
    double ari = 1, nmi = 1;                                  // against the example's labels
    int32_t k = 0;                                            // topic clusters found
    std::vector<std::pair<int32_t, std::string>> assignment;  // turn id -> cluster id it ran in
    double time_ms = 0;                                       // clustering time for the example
};

struct OutputRecord {
    std::string cluster;
    std::string kind;  // topic, synthesis
    std::string text;
    int32_t n_tokens = 0;          // generated
    int32_t n_context_tokens = 0;  // tokens in the sequence it was generated from
    std::string stop_reason;
    std::optional<uint64_t> kv_bytes;  // unset: the engine's KV is not visible (remote backend)
    double prefill_ms = 0, ttft_ms = 0, decode_tokens_per_s = 0, total_ms = 0;
    // [0, 1]; absent in records written before the copy control existed (2026-12-05), and only
    // there: the writer always has it for outputs of today's executor.
    std::optional<double> prompt_copy_share;
    // Prompt tokens the engine took from its prefix cache, when it reports them (remote).
    std::optional<int64_t> cached_tokens;
};

struct AnswerRecord {
    std::string question;
    std::string text;
    int32_t n_tokens = 0;
    int32_t n_context_tokens = 0;
    std::string stop_reason;
};

struct KvRecord {
    uint64_t peak_bytes = 0;
    int64_t peak_cells_full = 0, peak_cells_swa = 0;
    uint64_t allocated_bytes = 0;
    int32_t sessions = 0;
    std::string layout;  // unified, per_sequence
    uint64_t weights_bytes = 0, separate_instances_bytes = 0;
};

// Speculative decoding's totals over the condition's outputs and answers (a run with --draft).
struct SpeculationRecord {
    int64_t drafted = 0, accepted = 0;  // tokens the draft proposed / the model kept
    int32_t draft_calls = 0;            // the draft's decode calls
    double draft_ms = 0;                // their wall time (part of decode_ms)
};

struct TimingRecord {
    double total_ms = 0, prefill_ms = 0, decode_ms = 0;
    int32_t decode_calls = 0;
    int64_t prefill_tokens = 0;
    double questions_ms = 0;
    std::optional<int64_t> cached_prompt_tokens;   // of all outputs, when the engine reports them
    std::optional<SpeculationRecord> speculation;  // with a draft model only
};

struct ResultRecord {
    std::string example_id;
    DataFile file;  // the example's dataset file (run_config.h: relative and absolute)
    std::string domain, split;
    std::string condition;
    bool naive = false;
    bool ok = false;    // "status": "ok" or "error"
    std::string error;  // when !ok
    ModelIdentity model;
    RunConfig config;
    Versions versions;
    std::optional<ClusteringRecord> clustering;
    // When ok: the other conditions of the example that ran in the same session ([] = alone);
    // then kv (but the outputs' kv_bytes) and timing (but prefill_tokens) are the shared
    // session's, not this condition's (rdic/isolation/executor.h, ConditionResult).
    std::vector<std::string> together_with;
    std::vector<OutputRecord> outputs;  // when ok
    std::vector<AnswerRecord> answers;  // when ok (may be empty)
    std::optional<KvRecord> kv;         // when ok and the engine's KV is visible (in-process)
    TimingRecord timing;                // when ok
    std::string finished_at;            // ISO 8601 UTC
};

std::string result_to_line(const ResultRecord& r);  // one JSON line, no newline

// Parses one line; `where` ("FILE:LINE") prefixes every error (corrupt_file).
ResultRecord parse_result_line(const std::string& line, const std::string& where);

struct ResultsLog {
    std::filesystem::path file;
    std::vector<ResultRecord> records;  // file order
    std::vector<int64_t> line_numbers;  // of each record
    bool torn_tail = false;             // a torn last line was left out
};

// Throws file_not_found when FILE is missing, unreadable or a directory; corrupt_file for a bad
// record (nothing is returned then).
ResultsLog read_results(const std::filesystem::path& file);

// One record per (example, condition, naive): its success if any, else its latest failure, in
// file order of first appearance. Throws corrupt_file when one pair has two successes.
std::vector<const ResultRecord*> current_records(const ResultsLog& log);

}  // namespace rdic
