// Complete, valid records for tests that build a results directory by hand, written with the
// records module's own writers (rdic/records/): a test changes the one field it is about.
//
//   rdic::ResultRecord r = rdic::test::sample_result("ex-0", "semantic");
//   out << rdic::result_to_line(r) << "\n";
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "support/temp_dir.h"

namespace rdic::test {

inline ConfigRecord sample_config() {
    ConfigRecord c;
    c.config.conditions = {"sequential", "semantic"};
    c.config.max_tokens = 16;
    c.config.system_prompt = "You are a helpful assistant.";
    c.config.answer_tokens = 24;
    c.model = {.file = "tiny.gguf",
               .path = "/nonexistent/tiny.gguf",
               .bytes = 1000,
               .sha256_prefix = "0123456789abcdef",
               .architecture = "llama",
               .name = "tiny"};
    c.versions = {"0.1.0", "fixture", "fixture"};
    return c;
}

// A successful record of one topic output "a" with 1 MiB of peak KV and one second.
inline ResultRecord sample_result(const std::string& example, const std::string& condition) {
    const ConfigRecord c = sample_config();
    ResultRecord r;
    r.example_id = example;
    r.file = {"examples/" + example + ".json", "/nonexistent/examples/" + example + ".json"};
    r.domain = "test";
    r.split = "test";
    r.condition = condition;
    r.ok = true;
    r.model = c.model;
    r.config = c.config;
    r.versions = c.versions;
    r.outputs.push_back({.cluster = "a",
                         .kind = "topic",
                         .text = "x",
                         .n_tokens = 1,
                         .n_context_tokens = 10,
                         .stop_reason = "end_of_generation",
                         .kv_bytes = 4096,
                         .ttft_ms = 100,
                         .prompt_copy_share = {},
                         .cached_tokens = {}});
    r.kv = KvRecord{.peak_bytes = 1048576, .peak_cells_full = 100, .layout = "unified"};
    r.timing = {
        .total_ms = 1000, .prefill_tokens = 10, .cached_prompt_tokens = {}, .speculation = {}};
    r.finished_at = "2026-12-05T00:00:00Z";
    return r;
}

inline void append_line(const std::filesystem::path& file, const std::string& line) {
    std::ofstream(file, std::ios::app | std::ios::binary) << line << "\n";
}

// The message of the error `f` throws, expected to have `code` ("" when it throws none: a
// failure).
template <class F>
std::string error_of(F f, ErrorCode code) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

// The message of the corrupt_file error `f` throws ("" when it does not throw one).
template <class F>
std::string corrupt(F f) {
    return error_of(f, ErrorCode::corrupt_file);
}

// A results directory with config.json and the given results lines.
inline std::filesystem::path run_dir(const TempDir& t, const std::string& name,
                                     const std::vector<std::string>& lines,
                                     const ConfigRecord& config = sample_config()) {
    const std::filesystem::path dir = t.path() / name;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << config_to_text(config);
    std::ofstream out(dir / "results.jsonl");
    for (const std::string& l : lines) out << l << "\n";
    return dir;
}

}  // namespace rdic::test
