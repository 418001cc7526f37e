// Wall-clock timestamps for records and reports.
//
//   std::string t = rdic::iso8601_utc_now();   // "2026-11-26T03:59:04Z"
#pragma once

#include <string>

namespace rdic {

// The current UTC time, ISO 8601 with seconds and a Z suffix.
std::string iso8601_utc_now();

}  // namespace rdic
