// A SequenceSnapshot on disk: what lets an evicted or restarted sequence come back without a
// prefill. One file per sequence, written atomically (a temporary file in the same folder,
// fsync, rename, fsync of the folder), so a crash leaves the old file or the new one, never half.
//
// Format (little-endian), version 1:
//   "RDICSEQ1" | u32 version | 64 bytes: model sha256 (hex) | u32 n_tokens | i32 tokens[n_tokens]
//   | u64 n_kv | n_kv bytes: llama.cpp's sequence state | 64 bytes: sha256 (hex) of all before it
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "rdic/engine/types.h"

namespace rdic {

inline constexpr uint32_t kSequenceFileVersion = 1;

// Throws invalid_argument when model_sha256 is not 64 hex characters; file errors name the file
// and the OS reason (ErrorCode::invalid_argument for a folder that cannot be written).
void write_sequence_file(const std::filesystem::path& path, const SequenceSnapshot& snapshot,
                         std::string_view model_sha256);

// Reads and checks a file written by write_sequence_file. Throws file_not_found, corrupt_file
// (bad magic, truncated, checksum mismatch, unknown version: each message names the file and
// what is wrong), or unsupported_model when the file was written for another model.
SequenceSnapshot read_sequence_file(const std::filesystem::path& path,
                                    std::string_view model_sha256);

}  // namespace rdic
