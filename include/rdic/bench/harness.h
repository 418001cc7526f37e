// The benchmark harness behind `rdic bench`: the experiment's workload timed per condition
// (median and spread over repeats: wall time, prefill and decode tokens/s, TTFT per output, KV
// bytes per sequence and peak), optionally all batched conditions together in one session, then
// lockstep decoding at fixed batch sizes against the memory-bandwidth roofline.
//
//   auto model = rdic::Model::load({.path = "model.gguf"});
//   rdic::BenchOptions o;                       // defaults: synthetic POC workload, 300 tokens
//   rdic::BenchOutcome r = rdic::run_bench(model, o, [](const std::string& what) { ... });
//   std::cout << r.text;                         // the tables a person reads
//   write(r.doc.dump(1));                        // format "rdic.bench/v1" (docs/performance.md)
//
// Front ends (the CLI, scripts) only fill the options, show progress and write the outcome.
// Errors: rdic::Error (invalid_argument naming the option, file errors from the dataset loader,
// model errors from the engine), thrown before the first timed run where they can be checked.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/engine/model.h"

namespace rdic {

struct BenchOptions {
    std::vector<std::string> data;  // dataset files or folders; empty = the synthetic workload
    int32_t limit = 0;              // first N examples of data (0 = all)
    std::string conditions = "sequential,prompted,turn_based,semantic,separate_contexts";
    int32_t max_tokens = 300;
    int32_t repeats = 3;
    int32_t warmup = 1;
    bool naive = false;
    bool together = false;     // also the batched conditions together in one session
    bool stop_at_eog = false;  // default: fixed-length outputs (always max_tokens)
    std::string kv_type = "f16";
    std::string flash_attn = "auto";  // auto, on, off
    std::string kv_layout = "auto";
    int32_t n_gpu_layers = -1;  // recorded; the caller loaded the model with it
    int32_t n_threads = 0;
    // Speculative decoding (ExecutorOptions::draft): the draft model, loaded and checked against
    // the target's vocabulary by the caller; null = none.
    std::shared_ptr<const Model> draft;
    int32_t n_draft_max = 8;
    float draft_p_min = 0.0f;
    std::string decode_batches = "1,3";  // comma-separated, each 1..64; "" = skip
    int32_t decode_context = 1090;
    int32_t decode_steps = 64;
    double bandwidth_gbs = 0;   // 0 = known GPUs' datasheet value, none on CPU
    std::string machine;        // a name recorded in the document
    bool want_prompts = false;  // fill BenchOutcome::prompts
};

struct BenchOutcome {
    nlohmann::json doc;      // "rdic.bench/v1"
    std::string text;        // header and tables, as `rdic bench` prints them
    nlohmann::json prompts;  // with want_prompts: every output's prompt pieces
};

// Called before each timed step ("semantic 2/3", "together 1/3", "decode batch 3").
using BenchProgress = std::function<void(const std::string& what)>;

BenchOutcome run_bench(const std::shared_ptr<const Model>& model, const BenchOptions& options,
                       const BenchProgress& progress = {});

// The model's shape as `rdic info --json` and `rdic bench` write it.
nlohmann::json model_shape_json(const ModelInfo& info);

}  // namespace rdic
