// Helpers shared by the subcommands.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "rdic/engine/model.h"
#include "rdic/engine/sampler.h"
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

// --temperature, --top-k, --top-p, --min-p, --seed (shared by generate and run).
inline void add_sampling_options(CLI::App& app, SamplerOptions& s) {
    app.add_option("--temperature", s.temperature, "0 = greedy (default)");
    app.add_option("--top-k", s.top_k, "0 = off");
    app.add_option("--top-p", s.top_p, "1 = off");
    app.add_option("--min-p", s.min_p, "0 = off");
    app.add_option("--seed", s.seed, "Sampler seed");
}

}  // namespace rdic::cli
