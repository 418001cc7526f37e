#include "rdic/model_paths.h"

#include <cstdlib>
#include <system_error>

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

const std::vector<KnownModel>& known_models() {
    static const std::vector<KnownModel> models = {
        {"default", build_info::kDefaultModelFile, build_info::kDefaultModelSha256,
         "./scripts/setup.sh"},
        {"large (judge, speculative target)", build_info::kLargeModelFile,
         build_info::kLargeModelSha256, "RDIC_WITH_LARGE_MODEL=1 ./scripts/setup.sh"},
        {"engine tests: sliding window, base model", build_info::kGemmaModelFile,
         build_info::kGemmaModelSha256, "./scripts/setup.sh"},
        {"engine tests: second architecture", build_info::kSmolModelFile,
         build_info::kSmolModelSha256, "./scripts/setup.sh"},
    };
    return models;
}

std::filesystem::path large_model_if_installed() {
    const std::filesystem::path p = model_cache_dir() / build_info::kLargeModelFile;
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) ? p : std::filesystem::path();
}

}  // namespace rdic
