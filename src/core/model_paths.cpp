#include "rdic/model_paths.h"

#include <cstdlib>

#include "rdic/build_info.h"

namespace rdic {

namespace {
const char* non_empty_env(const char* name) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : nullptr;
}
}  // namespace

std::filesystem::path model_cache_dir() {
    if (const char* dir = non_empty_env("RDIC_MODELS")) return dir;
    if (const char* cache = non_empty_env("RDIC_CACHE")) {
        return std::filesystem::path(cache) / "models";
    }
    if (const char* xdg = non_empty_env("XDG_CACHE_HOME")) {
        return std::filesystem::path(xdg) / "rdic" / "models";
    }
    if (const char* home = non_empty_env("HOME")) {
        return std::filesystem::path(home) / ".cache" / "rdic" / "models";
    }
    return std::filesystem::path(".cache") / "rdic" / "models";
}

std::filesystem::path resolve_model_path(std::string_view explicit_path) {
    if (!explicit_path.empty()) return std::filesystem::path(explicit_path);
    return model_cache_dir() / build_info::kDefaultModelFile;
}

}  // namespace rdic
