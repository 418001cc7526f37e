// libFuzzer: the dataset loader (rdic.dataset/v1, v2 and the proof of concept's format), which
// promises never to throw on bad input and to report every problem as an issue.
#include "fuzz_support.h"
#include "rdic/datasets/example.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const rdic::LoadResult r = rdic::load_example(rdic::fuzz::as_file(data, size, ".json"));
    for (const rdic::Issue& i : r.issues) (void)i.to_string();
    if (r.example && r.issues.empty()) {
        // A valid example keeps its invariants: every turn names a cluster of the example.
        for (const rdic::Turn& t : r.example->turns) {
            if (r.example->find(t.cluster) == nullptr) __builtin_trap();
        }
    }
    return 0;
}
