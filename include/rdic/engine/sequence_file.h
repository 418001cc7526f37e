// A SequenceSnapshot on disk: what lets an evicted or restarted sequence come back without a
// prefill. One file per sequence, written atomically (a temporary file in the same folder,
// fsync, rename, fsync of the folder), so a crash leaves the old file or the new one, never half.
//
// Format (little-endian), version 2:
//   "RDICSEQ1" | u32 version | 64 bytes: model sha256 (hex) | u32 n_tokens | i32 tokens[n_tokens]
//   | u64 n_kv | n_kv bytes: llama.cpp's sequence state | u32 CRC-32C (crc32c.h) of all before it
// Version 1 (still read) ended with 64 bytes: the sha256 (hex) of all before it instead. The
// check is against damage, not tampering (the model's identity is the header's sha256); CRC-32C
// verifies 48 MiB (4K tokens of Qwen2.5 0.5B) in ~8 ms where sha256 took ~200 ms on this CPU.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "rdic/engine/types.h"

namespace rdic {

inline constexpr uint32_t kSequenceFileVersion = 2;  // the one written

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
