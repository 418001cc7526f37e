// Helpers shared by the dataset loader suites (v1/POC and v2).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic::test {

// All issues, one a line, for failure messages.
inline std::string describe(const std::vector<Issue>& issues) {
    if (issues.empty()) return " (no issues)";
    std::string out;
    for (const Issue& i : issues) out += "\n  " + i.to_string();
    return out;
}

// The whole file as bytes ("" when it cannot be read).
inline std::string read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

using Edits = std::vector<std::pair<std::string, std::string>>;

// `text` with each edit's `from`, which must occur exactly once, replaced by its `to`, in order.
inline std::string edited(std::string text, const Edits& edits) {
    for (const auto& [from, to] : edits) {
        const size_t at = text.find(from);
        if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
            ADD_FAILURE() << "edit target does not occur exactly once: " << from;
            continue;
        }
        text.replace(at, from.size(), to);
    }
    return text;
}

}  // namespace rdic::test
