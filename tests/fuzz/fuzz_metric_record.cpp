// libFuzzer: the metrics.jsonl reader. Bad input is an rdic::Error; accepted values are finite.
#include <cmath>

#include "fuzz_support.h"
#include "rdic/error.h"
#include "rdic/records/metric_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const rdic::MetricRecord r =
            rdic::parse_metric_line(rdic::fuzz::as_text(data, size), "fuzz:1");
        for (const auto& [id, v] : r.values) {
            if (!std::isfinite(v)) __builtin_trap();
        }
    } catch (const rdic::Error&) {
    }
    return 0;
}
