// Helpers shared by the subcommands.
#pragma once

#include <memory>
#include <string>

#include "rdic/engine/model.h"
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

}  // namespace rdic::cli
