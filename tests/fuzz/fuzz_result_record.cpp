// libFuzzer: the results.jsonl reader. Bad input is an rdic::Error (corrupt_file); a record it
// accepts is written back by the one writer and read again to the same line.
#include "fuzz_support.h"
#include "rdic/error.h"
#include "rdic/records/result_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const rdic::ResultRecord r =
            rdic::parse_result_line(rdic::fuzz::as_text(data, size), "fuzz:1");
        const std::string line = rdic::result_to_line(r);
        if (rdic::result_to_line(rdic::parse_result_line(line, "fuzz:2")) != line) {
            __builtin_trap();
        }
    } catch (const rdic::Error&) {
    }
    return 0;
}
