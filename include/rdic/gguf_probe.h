// GGUF header probe: reads a model file's header, metadata and tensor table without llama.cpp,
// so that a missing, truncated or corrupt file gets one precise error before anything is loaded.
//
//   rdic::GgufSummary s = rdic::probe_gguf("model.gguf");   // throws rdic::Error on bad input
//   std::cout << s.architecture << " " << s.n_tensors << "\n";
//
// Thread-safety: a pure function of the file's bytes. Memory: bounded by the scalar metadata kept
// (string arrays such as the vocabulary are skipped, not stored).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace rdic {

struct GgufSummary {
    std::filesystem::path path;
    uint64_t file_bytes = 0;
    uint32_t version = 0;
    uint64_t n_tensors = 0;
    uint64_t n_kv = 0;
    std::string architecture;  // general.architecture
    std::string name;          // general.name, may be empty
    bool has_chat_template = false;
    uint64_t data_offset = 0;                    // start of the tensor data section
    uint64_t data_end = 0;                       // one past the last byte any tensor needs
    std::map<std::string, std::string> scalars;  // every scalar key, rendered as text
};

// Reads and checks `path`. Throws rdic::Error with
//   file_not_found  when the path is missing or unreadable,
//   corrupt_file    when the magic, version, a length, a type or the tensor table is invalid,
//                   or the file is shorter than its tensor table requires (truncated);
// the message names the file and what is wrong.
GgufSummary probe_gguf(const std::filesystem::path& path);

}  // namespace rdic
