// libFuzzer: the GGUF probe that checks a model file before llama.cpp sees it. Bad input is an
// rdic::Error; nothing reads outside the file.
#include "fuzz_support.h"
#include "rdic/error.h"
#include "rdic/gguf_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const rdic::GgufSummary s = rdic::probe_gguf(rdic::fuzz::as_file(data, size, ".gguf"));
        if (s.data_end > s.file_bytes) __builtin_trap();
    } catch (const rdic::Error&) {
    }
    return 0;
}
