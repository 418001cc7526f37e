// SHA-256 (FIPS 180-4) of bytes or of a file, as lowercase hex. Used to record which model file
// produced a result.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace rdic {

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws rdic::Error(file_not_found) when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace rdic
