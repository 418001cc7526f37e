// expand_data_paths (rdic/datasets/example.h): the dataset files named by files and directories.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "rdic/datasets/example.h"
#include "rdic/printable.h"

namespace rdic {

namespace {

// A dataset file found by expand_data_paths, or an issue when its name cannot be stored.
void add_file(const std::filesystem::path& p, std::vector<std::filesystem::path>& out,
              std::vector<Issue>* issues) {
    if (is_utf8_path(p)) {
        out.push_back(p);
    } else if (issues != nullptr) {
        issues->push_back(
            {p, "",
             "the file name is not valid UTF-8 (results record it as JSON text); rename it"});
    }
}

// The *.json files under `dir`, sorted. Every entry that cannot be read (a symlink loop, no
// permission) is one issue; the rest of the directory is still listed. Symlinks to directories
// are not followed (no loops).
void collect_json(const std::filesystem::path& dir, std::vector<std::filesystem::path>& out,
                  std::vector<Issue>* issues) {
    auto issue = [&](const std::filesystem::path& p, const std::string& what) {
        if (issues != nullptr) issues->push_back({p, "", what});
    };
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
        issue(dir, "cannot read the directory (" + ec.message() + ")");
        return;
    }
    std::vector<std::filesystem::path> entries;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        entries.push_back(it->path());
    }
    if (ec) issue(dir, "cannot list the whole directory (" + ec.message() + ")");
    std::sort(entries.begin(), entries.end());
    std::vector<std::filesystem::path> files;
    for (const auto& p : entries) {
        std::error_code se;
        const auto link = std::filesystem::symlink_status(p, se);
        if (!se && std::filesystem::is_directory(link)) {
            collect_json(p, files, issues);
            continue;
        }
        if (p.extension() != ".json") continue;
        const auto st = std::filesystem::status(p, se);
        if (se) {
            issue(p, "cannot read (" + se.message() + ")");
        } else if (std::filesystem::is_regular_file(st)) {
            add_file(p, files, issues);
        }
    }
    out.insert(out.end(), files.begin(), files.end());
}

}  // namespace

std::vector<std::filesystem::path> expand_data_paths(
    const std::vector<std::filesystem::path>& paths, std::vector<Issue>* issues) {
    std::vector<std::filesystem::path> out;
    for (const auto& p : paths) {
        std::error_code ec;
        if (std::filesystem::is_directory(p, ec)) {
            collect_json(p, out, issues);
        } else if (std::filesystem::exists(p, ec)) {
            add_file(p, out, issues);
        } else if (issues != nullptr) {
            issues->push_back(
                {p, "", ec ? "cannot read (" + ec.message() + ")" : "no such file or directory"});
        }
    }
    return out;
}

}  // namespace rdic
