// Shared by the libFuzzer targets: the input as a file (for readers that take a path), and the
// rule every target checks: bad input ends in rdic::Error or a reported issue, never in another
// exception, a crash, a hang or a sanitizer report.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace rdic::fuzz {

// A file of this process holding `data` (rewritten for every input).
inline std::filesystem::path as_file(const uint8_t* data, size_t size, const char* ext) {
    static const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("rdic-fuzz-" + std::to_string(::getpid()) + ext);
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return file;
}

inline std::string as_text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace rdic::fuzz
