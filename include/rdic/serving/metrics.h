// ServeMetrics: the server's counters, rendered as Prometheus text (GET /metrics).
//
//   rdic::ServeMetrics m;
//   m.requests_ok.fetch_add(1);
//   m.ttft.observe(12.5);
//   std::string text = rdic::render_prometheus(m);
//
// Thread-safety: every field may be updated from any thread (atomics); render reads a snapshot
// that may mix updates in flight, as Prometheus scrapes do.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace rdic {

// Histogram of milliseconds with fixed buckets (upper bounds in ms; +Inf implied).
class MsHistogram {
public:
    static constexpr std::array<double, 12> kBoundsMs = {5,   10,   25,   50,   100,   250,
                                                         500, 1000, 2500, 5000, 10000, 30000};
    void observe(double ms);
    uint64_t count() const { return count_.load(); }
    // Appends the _bucket/_sum/_count lines of metric `name` (in seconds, as Prometheus wants).
    void render(const std::string& name, const std::string& help, std::string& out) const;

private:
    std::array<std::atomic<uint64_t>, kBoundsMs.size() + 1> buckets_{};
    std::atomic<uint64_t> count_{0};
    std::atomic<uint64_t> sum_us_{0};
};

struct ServeMetrics {
    std::atomic<uint64_t> requests_ok{0};
    std::atomic<uint64_t> requests_client_error{0};  // 4xx
    std::atomic<uint64_t> requests_rejected{0};      // 429
    std::atomic<uint64_t> requests_server_error{0};  // 5xx (timeouts included)
    std::atomic<uint64_t> prompt_tokens{0};
    std::atomic<uint64_t> cached_tokens{0};
    std::atomic<uint64_t> completion_tokens{0};
    std::atomic<uint64_t> draft_tokens{0};           // proposed by the --draft model
    std::atomic<uint64_t> draft_accepted_tokens{0};  // of those, kept by the model
    std::atomic<uint64_t> evictions{0};
    std::atomic<uint64_t> restores_file{0};       // a topic's KV read back from its file
    std::atomic<uint64_t> restores_reprefill{0};  // recomputed from the stored turns
    std::atomic<uint64_t> restore_failures{0};    // a file that could not be used (then re-prefill)
    std::atomic<uint64_t> kv_files_written{0};
    std::atomic<int64_t> kv_resident_bytes{0};
    std::atomic<int64_t> kv_disk_bytes{0};
    std::atomic<int64_t> resident_sequences{0};
    std::atomic<int64_t> in_flight{0};
    MsHistogram ttft;
};

std::string render_prometheus(const ServeMetrics& m);

}  // namespace rdic
