// File names as printable text.
//
//   std::cerr << rdic::printable_path(file) << ": cannot read\n";
#pragma once

#include <filesystem>
#include <string>

namespace rdic {

// `file` with every byte that is not part of valid UTF-8, and every control character, written
// as \xHH: a name never garbles a terminal, and the text is valid UTF-8 for a JSON record.
std::string printable_path(const std::filesystem::path& file);

// True when the path's bytes are valid UTF-8 (a JSON record can hold it exactly).
bool is_utf8_path(const std::filesystem::path& file);

}  // namespace rdic
