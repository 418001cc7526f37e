#include "rdic/isolation/together.h"

#include <algorithm>

namespace rdic {

namespace {

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

}  // namespace

std::string together_refusal(const TogetherNeeds& needs, const TogetherLimits& limits) {
    if (needs.n_sequences > limits.max_sequences) {
        return std::to_string(needs.n_sequences) +
               " sequences in one session; the engine holds at most " +
               std::to_string(limits.max_sequences);
    }
    if (needs.n_kv_cells > limits.max_kv_cells) {
        return std::to_string(needs.n_kv_cells) + " KV cells in one session; at most " +
               std::to_string(limits.max_kv_cells);
    }
    if (needs.kv_bytes > limits.max_kv_bytes) {
        return mib(needs.kv_bytes) +
               " of KV cache in one session; the limit for running "
               "conditions together is " +
               mib(limits.max_kv_bytes);
    }
    return "";
}

bool together_by_default(const std::vector<std::string>& layer_device, std::optional<bool> chosen,
                         std::string* why) {
    auto say = [&](const std::string& line) {
        if (why) *why = line;
    };
    if (chosen) {
        say(*chosen ? "conditions of an example together (--together)"
                    : "conditions one by one (--separate-conditions)");
        return *chosen;
    }
    const auto on_cpu = [](const std::string& d) { return d == "CPU" || d == "?" || d.empty(); };
    if (layer_device.empty() || std::any_of(layer_device.begin(), layer_device.end(), on_cpu)) {
        say("conditions one by one (weights on the CPU, where together is slower; --together to "
            "run them together)");
        return false;
    }
    say("conditions of an example together (weights on " + layer_device.front() +
        "; --separate-conditions to run them one by one)");
    return true;
}

}  // namespace rdic
