// Helpers shared by the subcommands.
#pragma once

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "rdic/bench/harness.h"
#include "rdic/build_info.h"
#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"
#include "rdic/engine/sampler.h"
#include "rdic/engine/session.h"
#include "rdic/error.h"
#include "rdic/model_paths.h"

namespace rdic::cli {

// Loads --model, or the default model from the cache with a hint when it is not there yet.
inline std::shared_ptr<const Model> load_model(const std::string& flag, int32_t n_gpu_layers) {
    try {
        return Model::load({.path = resolve_model_path(flag), .n_gpu_layers = n_gpu_layers});
    } catch (const Error& e) {
        if (flag.empty() && e.code() == ErrorCode::file_not_found) {
            throw Error(e.code(), std::string(e.what()) +
                                      " (the default model; ./scripts/setup.sh downloads it, "
                                      "or pass --model PATH)");
        }
        throw;
    }
}

// `--draft PATH` and `--draft-max N` (speculative decoding) of generate, run, bench and serve.
struct DraftArgs {
    std::string path;  // "" = no draft
    int32_t n_max = 8;
    float p_min = 0.0f;
};
inline void add_draft_options(CLI::App& app, DraftArgs& args) {
    app.add_option("--draft", args.path,
                   "Draft model (GGUF with the model's vocabulary) for speculative decoding");
    app.add_option("--draft-max", args.n_max, "Most tokens the draft proposes per step")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--draft-p-min", args.p_min,
                   "Stop drafting when the draft's best token is less likely than this (greedy)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
}
// The draft model of --draft, checked against the target's vocabulary; null without --draft.
inline std::shared_ptr<const Model> load_draft(const DraftArgs& args, const Model& target,
                                               int32_t n_gpu_layers) {
    if (args.path.empty()) return nullptr;
    auto draft = Model::load({.path = resolve_model_path(args.path), .n_gpu_layers = n_gpu_layers});
    check_same_vocabulary(target, *draft);
    return draft;
}

// A CLI11 check that runs one of the engine's parsers (context_options.h): the parser's error
// is the option's one line, after CLI11's "--flag: ".
template <class Parse>
CLI::Validator engine_parser_check(Parse parse, const std::string& accepted) {
    return CLI::Validator(
        [parse](const std::string& v) {
            try {
                parse(v);
                return std::string();
            } catch (const Error& e) {
                return std::string(e.what());
            }
        },
        accepted);
}

// `--flash-attn VALUE` of bench and serve.
inline void add_flash_attn_option(CLI::App& app, std::string& value, const std::string& help) {
    app.add_option("--flash-attn", value, help)
        ->check(engine_parser_check(parse_flash_attn, "auto|on|off"))
        ->capture_default_str();
}

// `--kv-layout VALUE` of run, bench and serve.
inline void add_kv_layout_option(CLI::App& app, std::string& value) {
    app.add_option("--kv-layout", value,
                   "auto (one KV stream per sequence where outputs share no context), unified, "
                   "per_sequence")
        ->check(engine_parser_check(parse_kv_layout, "auto|unified|per_sequence"))
        ->capture_default_str();
}

// The valid examples of --data (default: the shipped test split). Every problem is printed on
// stderr; *n_invalid counts the files that are not valid examples and the entries that cannot be
// read (those are skipped). Throws
// invalid_argument when no valid example remains.
inline std::vector<Example> load_examples(const std::vector<std::string>& data, int* n_invalid) {
    std::vector<std::filesystem::path> paths;
    if (data.empty()) paths.emplace_back(std::string(build_info::kDataDir) + "/test");
    for (const auto& d : data) paths.emplace_back(d);
    std::vector<Issue> issues;
    const auto files = expand_data_paths(paths, &issues);
    std::vector<Example> examples;
    *n_invalid = static_cast<int>(issues.size());  // entries that could not even be listed
    for (const auto& f : files) {
        LoadResult r = load_example(f);
        issues.insert(issues.end(), r.issues.begin(), r.issues.end());
        if (r.example && r.issues.empty())
            examples.push_back(std::move(*r.example));
        else
            ++*n_invalid;
    }
    for (const Issue& i : issues) std::cerr << "rdic: dataset: " << i.to_string() << "\n";
    if (examples.empty()) {
        throw Error(ErrorCode::invalid_argument, "no valid examples in the data given");
    }
    return examples;
}

// Upper bound of --threads: more threads than this only exhaust memory (each has a stack).
inline constexpr int32_t kMaxThreads = 1024;

// `--threads N` (0 = all cores), bounded to [0, kMaxThreads].
inline void add_threads_option(CLI::App& app, int32_t& n_threads) {
    app.add_option("--threads", n_threads, "CPU threads (0 = all cores; at most 1024)")
        ->check(CLI::Range(0, kMaxThreads));
}

// --temperature, --top-k, --top-p, --min-p, --seed (shared by generate and run).
inline void add_sampling_options(CLI::App& app, SamplerOptions& s) {
    app.add_option("--temperature", s.temperature, "0 = greedy (default)");
    app.add_option("--top-k", s.top_k, "0 = off");
    app.add_option("--top-p", s.top_p, "1 = off");
    app.add_option("--min-p", s.min_p, "0 = off");
    app.add_option("--seed", s.seed, "Sampler seed");
}

}  // namespace rdic::cli
