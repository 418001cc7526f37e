// config.json of a results directory: the one configuration every record in it ran with.
// Plain data; no engine dependency. One writer (config_to_text) and one reader (read_config).
//
//   rdic::ConfigRecord c = rdic::read_config(dir / "config.json");   // throws on a bad file
//   for (auto& d : rdic::config_differences(c, mine)) std::cerr << d << "\n";
//
// Data files are stored twice: relative to the results directory (so a moved or copied tree of
// results and data, or an eval from another working directory, still finds them) and absolute
// (the path when the run started). resolve_data_file() tries the relative one first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rdic {

// Version of config.json, results.jsonl and metrics.jsonl records ("schema": 2). Records of
// versions kOldestRecordSchemaVersion..kRecordSchemaVersion are read; another version, or none
// (written before versions existed), is refused.
//   1: everything ran in-process; KV fields always present.
//   2: config "backend"; a results record's "kv" and outputs' "kv_bytes" may be null (a remote
//      engine's KV is not visible); outputs' "cached_tokens" and timing's
//      "cached_prompt_tokens" when the engine reports them.
//   3: config "together" (required); a successful results record's "together_with" (required).
//      Read from schema 1 and 2 as false and []: the rdic that wrote them ran every condition
//      of `rdic run` alone (run_conditions_together existed only in `rdic bench`).
// Optional fields added within version 3, read as their default when absent (in config.json and
// in each results record's "config"): "draft" and "draft_max" (none), "device" ("" = unknown;
// setting_differences claims no difference in device when either side is unknown).
inline constexpr int kRecordSchemaVersion = 3;
inline constexpr int kOldestRecordSchemaVersion = 1;

struct ModelIdentity {
    std::string file;  // file name
    std::string path;  // absolute path when the run started
    uint64_t bytes = 0;
    std::string sha256_prefix;  // first 16 hex digits
    std::string architecture;
    std::string name;
};

struct SamplingConfig {
    double temperature = 0;
    int32_t top_k = 0;
    double top_p = 1;
    double min_p = 0;
    uint32_t seed = 0;
};

struct RunConfig {
    std::vector<std::string> conditions;
    int32_t max_tokens = 0;
    SamplingConfig sampling;
    std::string system_prompt;
    bool seed_compat = false;  // the POC's prompts
    // The questions' answer instruction: "value-only" or "value-or-unknown" (PromptOptions).
    std::string question_wording = "value-only";
    bool questions = true;      // fact questions asked (dataset v2)
    int32_t answer_tokens = 0;  // token limit of each question's reply
    bool naive = false;
    std::string kv_layout = "auto";                         // auto, unified, per_sequence
    std::string clusters = "labels";                        // clustering method
    std::map<std::string, std::string> cluster_parameters;  // its options
    // Where the plans ran: "in-process" (batched, or naive above), or the base URL of an
    // OpenAI-compatible engine (--backend; never with credentials).
    std::string backend = "in-process";
    // The batched conditions of an example ran together in one session where they fit (`rdic
    // run`'s default; false with --separate-conditions, --naive or a remote backend). Which
    // records did is each record's together_with.
    bool together = false;
    // The device the model ran on: ModelInfo::device in-process ("CPU (...)", "CUDA0 (NVIDIA
    // H100 80GB HBM3)"), "remote" with a remote backend. "" = unknown: configs written before
    // the field existed (or llama.cpp did not say where the layers went).
    std::string device;
    // Speculative decoding (--draft): the draft model's file name, "" = none; its --draft-max.
    // Absent from configs written before it existed (read as none).
    std::string draft;
    int32_t draft_max = 0;
};

// A dataset file as stored: relative to the results directory and absolute.
struct DataFile {
    std::string relative;
    std::string absolute;
};

// The software that wrote a record.
struct Versions {
    std::string rdic, llama_cpp_pinned, llama_cpp_python;
};
Versions current_versions();

struct ConfigRecord {
    RunConfig config;
    ModelIdentity model;
    Versions versions;
    std::vector<DataFile> data;
};

// `file` stored for a results directory `dir`.
DataFile data_file_for(const std::filesystem::path& dir, const std::filesystem::path& file);
// Where a stored data file is now: DIR/relative when it exists, else the absolute path.
std::filesystem::path resolve_data_file(const std::filesystem::path& dir, const DataFile& file);

std::string config_to_text(const ConfigRecord& c);  // pretty JSON, schema version included
// Throws file_not_found when FILE is missing or unreadable, corrupt_file naming FILE, the JSON
// pointer and the reason for anything else (not JSON, wrong version, a field missing or mistyped).
ConfigRecord read_config(const std::filesystem::path& file);

// Settings in which `a` and `b` differ, one readable line each ("max_tokens: 16 vs 256",
// "model: gemma-3-270m... (sha256 a5fd...) vs SmolLM2..."); empty when they ran the same
// experiment. `with_seed`: the sampler seed counts (resume) or not (several seeds of a report).
// `with_conditions`: the condition list counts. Device counts only when both sides know it
// (not "", a config written before config.json recorded it).
std::vector<std::string> setting_differences(const RunConfig& a, const ModelIdentity& ma,
                                             const RunConfig& b, const ModelIdentity& mb,
                                             bool with_seed, bool with_conditions);

// Everything in which the run recorded in `recorded` differs from `now` (`rdic run --resume`):
// setting_differences with seed and conditions, then each data file in one and not the other.
std::vector<std::string> resume_differences(const ConfigRecord& recorded, const ConfigRecord& now);

}  // namespace rdic
