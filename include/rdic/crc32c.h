// CRC-32C (Castagnoli, the iSCSI / ext4 checksum): detects accidental damage to a file (torn
// writes, flipped bits), not tampering. With SSE4.2 (checked at run time) it runs at several
// GB/s; elsewhere a table-driven loop gives the same values.
//
//   uint32_t c = rdic::crc32c(header);
//   c = rdic::crc32c(body, c);  // extends: crc32c(a + b) == crc32c(b, crc32c(a))
#pragma once

#include <cstdint>
#include <string_view>

namespace rdic {

// The CRC-32C of `bytes` continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view bytes, uint32_t crc = 0);

namespace detail {
uint32_t crc32c_portable(std::string_view bytes, uint32_t crc);  // the table loop (tests)
}  // namespace detail

}  // namespace rdic
