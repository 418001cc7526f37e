// Measurement pieces of the bench harness (src/bench/harness.cpp): list parsing, machine
// facts, spreads, one timed pass of a condition, lockstep decoding at a fixed batch, the prompt
// dump. Internal to the library.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/plan.h"

namespace rdic::bench_detail {

using json = nlohmann::json;

std::vector<int32_t> parse_int_list(const std::string& text, const char* flag);
std::string read_first_line_with(const char* file, const std::string& key);
std::vector<double> load_average();
double known_bandwidth_gbs(const std::vector<std::string>& devices);

struct Spread {
    double median = 0, min = 0, max = 0;
};
Spread spread(std::vector<double> v);
json to_json(const Spread& s);
double per_s(double n, double ms);
std::string mib(double bytes);

// One timed pass of one condition over every example.
struct ConditionRun {
    double wall_ms = 0, prefill_ms = 0, decode_ms = 0;
    int64_t prefill_tokens = 0, decode_tokens = 0, decode_calls = 0;
    int64_t drafted = 0, accepted = 0;  // speculative decoding (BenchOptions::draft)
    uint64_t kv_peak_bytes = 0;         // most of any example
    int64_t kv_peak_cells = 0;
    uint64_t kv_allocated_bytes = 0;
    KvLayout kv_layout = KvLayout::unified;
    json outputs = json::array();
};
ConditionRun run_once(const std::shared_ptr<const Model>& model,
                      const std::vector<Example>& examples, Condition c,
                      const ExecutorOptions& exec);

// Lockstep decoding of `batch` independent sequences (not forks), each first prefilled with
// `context` tokens; the mean step time of `steps` steps.
struct DecodeRun {
    double step_ms = 0, prefill_ms = 0;
    uint64_t kv_bytes_mean = 0;  // all sequences' KV during the steps (mean of start and end)
};
DecodeRun decode_once(const std::shared_ptr<const Model>& model, const Tokens& context,
                      int32_t batch, int32_t steps, const ExecutorOptions& exec);

// The prompt text every output of the batched execution is generated from, for driving another
// server with the same workload: prefix + rendered messages + request + tail.
json prompts_json(const Model& model, const std::vector<Example>& examples,
                  const std::vector<Condition>& conditions, const ExecutorOptions& exec);

}  // namespace rdic::bench_detail
