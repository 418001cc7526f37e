// Where rdic finds models: the per-user model cache and the default model inside it.
//
//   std::filesystem::path p = rdic::resolve_model_path(cli_model_flag);  // "" -> default model
//
// The cache is $RDIC_MODELS when set, else $RDIC_CACHE/models, else
// $XDG_CACHE_HOME/rdic/models, else ~/.cache/rdic/models (the same rule as scripts/setup.sh,
// which fills it; nothing here downloads).
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace rdic {

// The model cache directory (may not exist yet).
std::filesystem::path model_cache_dir();

// `explicit_path` when non-empty, else the default model in the cache. Does not check existence;
// Model::load reports a missing file with a hint to run scripts/setup.sh.
std::filesystem::path resolve_model_path(std::string_view explicit_path);

// The models scripts/setup.sh knows (pins in scripts/pins.env), in the order `rdic models` lists.
struct KnownModel {
    std::string_view role;  // "default", "large", "engine-tests (sliding window)", ...
    std::string_view file;  // file name in the model cache
    std::string_view sha256;
    std::string_view how_to_get;  // the setup command that fetches it
};
const std::vector<KnownModel>& known_models();

// The large model (judge, speculative target) when it is in the cache, else "".
std::filesystem::path large_model_if_installed();

}  // namespace rdic
