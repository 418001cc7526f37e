// libFuzzer: the config.json reader. Bad input is an rdic::Error; an accepted config survives its
// writer and reader unchanged.
#include "fuzz_support.h"
#include "rdic/error.h"
#include "rdic/records/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const rdic::ConfigRecord c = rdic::read_config(rdic::fuzz::as_file(data, size, ".json"));
        const std::string text = rdic::config_to_text(c);
        const std::string again = rdic::config_to_text(rdic::read_config(rdic::fuzz::as_file(
            reinterpret_cast<const uint8_t*>(text.data()), text.size(), ".json")));
        if (again != text) __builtin_trap();
    } catch (const rdic::Error&) {
    }
    return 0;
}
