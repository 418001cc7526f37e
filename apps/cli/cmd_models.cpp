// `rdic models`: the models rdic knows, whether each is installed, and where.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "commands.h"
#include "rdic/model_paths.h"
#include "rdic/sha256.h"

namespace rdic::cli {

namespace {

struct ModelsArgs {
    bool json = false;
    bool verify = false;
};

struct Row {
    std::string role, file, path, status, how_to_get;
    uintmax_t bytes = 0;
};

int run_models(const ModelsArgs& args) {
    const std::filesystem::path dir = model_cache_dir();
    std::vector<Row> rows;
    std::set<std::string> known_files;
    for (const KnownModel& k : known_models()) {
        Row r{std::string(k.role), std::string(k.file), (dir / k.file).string(), "missing",
              std::string(k.how_to_get)};
        known_files.insert(r.file);
        std::error_code ec;
        if (std::filesystem::is_regular_file(r.path, ec)) {
            r.bytes = std::filesystem::file_size(r.path, ec);
            r.status = "installed";
            if (args.verify) {
                r.status = sha256_file_hex(r.path) == k.sha256 ? "verified" : "sha256 mismatch";
            }
        }
        rows.push_back(r);
    }
    // Any other GGUF in the cache (user-supplied models are welcome).
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (e.path().extension() != ".gguf" || known_files.count(name)) continue;
        std::error_code ec2;
        rows.push_back({"other", name, e.path().string(), "installed", "",
                        std::filesystem::file_size(e.path(), ec2)});
    }
    if (args.json) {
        nlohmann::json j = {{"cache_dir", dir.string()}, {"models", nlohmann::json::array()}};
        for (const Row& r : rows) {
            j["models"].push_back({{"role", r.role},
                                   {"file", r.file},
                                   {"path", r.path},
                                   {"status", r.status},
                                   {"bytes", r.bytes},
                                   {"install", r.how_to_get}});
        }
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "model cache: " << dir.string() << " ($RDIC_MODELS overrides)\n";
    for (const Row& r : rows) {
        char size[32] = "";
        if (r.bytes > 0) {
            std::snprintf(size, sizeof size, "%.0f MB", static_cast<double>(r.bytes) / 1e6);
        }
        std::cout << "  " << r.role << ": " << r.file << "  [" << r.status
                  << (r.bytes > 0 ? ", " + std::string(size) : "") << "]";
        if (r.status == "missing" && !r.how_to_get.empty()) std::cout << "  get: " << r.how_to_get;
        std::cout << "\n";
    }
    return 0;
}

}  // namespace

Action add_models(CLI::App& app) {
    auto args = std::make_shared<ModelsArgs>();
    app.add_flag("--json", args->json, "JSON instead of lines");
    app.add_flag("--verify", args->verify, "Check each installed known model's sha256 (slow)");
    return [args] { return run_models(*args); };
}

}  // namespace rdic::cli
