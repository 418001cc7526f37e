// Helpers shared by the dataset loader suites (v1/POC and v2).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace rdic::test
