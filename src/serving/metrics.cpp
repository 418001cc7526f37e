#include "rdic/serving/metrics.h"

#include <cstdio>
#include <vector>

namespace rdic {

void MsHistogram::observe(double ms) {
    size_t i = 0;
    while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
    buckets_[i].fetch_add(1);
    count_.fetch_add(1);
    sum_us_.fetch_add(static_cast<uint64_t>(ms > 0 ? ms * 1000.0 : 0.0));
}

namespace {

void line(std::string& out, const std::string& name, const std::string& labels, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += " ";
    out += buf;
    out += "\n";
}

void header(std::string& out, const std::string& name, const std::string& type,
            const std::string& help) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// One sample of a family: its labels ("" for none) and value.
struct Sample {
    const char* labels;
    double value;
};

// One metric family of the table below.
struct Family {
    const char* name;
    const char* type;  // "counter" or "gauge"
    const char* help;
    std::vector<Sample> samples;
};

template <typename T>
double v(const std::atomic<T>& a) {
    return static_cast<double>(a.load());
}

}  // namespace

void MsHistogram::render(const std::string& name, const std::string& help, std::string& out) const {
    header(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBoundsMs.size(); ++i) {
        cumulative += buckets_[i].load();
        char le[32];
        std::snprintf(le, sizeof le, "%g", kBoundsMs[i] / 1000.0);
        line(out, name + "_bucket", std::string("le=\"") + le + "\"",
             static_cast<double>(cumulative));
    }
    cumulative += buckets_[kBoundsMs.size()].load();
    line(out, name + "_bucket", "le=\"+Inf\"", static_cast<double>(cumulative));
    line(out, name + "_sum", "", static_cast<double>(sum_us_.load()) / 1e6);
    line(out, name + "_count", "", static_cast<double>(count_.load()));
}

std::string render_prometheus(const ServeMetrics& m) {
    // The one list of what /metrics exports (the TTFT histogram follows it).
    const std::vector<Family> families = {
        {"rdic_requests_total",
         "counter",
         "Chat completion requests by outcome",
         {{"outcome=\"ok\"", v(m.requests_ok)},
          {"outcome=\"client_error\"", v(m.requests_client_error)},
          {"outcome=\"rejected\"", v(m.requests_rejected)},
          {"outcome=\"server_error\"", v(m.requests_server_error)}}},
        {"rdic_prompt_tokens_total",
         "counter",
         "Prompt tokens of answered requests",
         {{"", v(m.prompt_tokens)}}},
        {"rdic_cached_tokens_total",
         "counter",
         "Prompt tokens found in the KV cache (not prefilled)",
         {{"", v(m.cached_tokens)}}},
        {"rdic_completion_tokens_total",
         "counter",
         "Generated tokens",
         {{"", v(m.completion_tokens)}}},
        {"rdic_draft_tokens_total",
         "counter",
         "Tokens the draft model proposed (speculative decoding, --draft)",
         {{"", v(m.draft_tokens)}}},
        {"rdic_draft_accepted_tokens_total",
         "counter",
         "Proposed tokens the model verified and kept",
         {{"", v(m.draft_accepted_tokens)}}},
        {"rdic_kv_evictions_total",
         "counter",
         "Idle topic sequences evicted from memory",
         {{"", v(m.evictions)}}},
        {"rdic_kv_restores_total",
         "counter",
         "Topic sequences brought back: from their file, or re-prefilled from stored turns",
         {{"source=\"file\"", v(m.restores_file)},
          {"source=\"reprefill\"", v(m.restores_reprefill)}}},
        {"rdic_kv_restore_failures_total",
         "counter",
         "Sequence files that could not be used (corrupt, other model): re-prefilled instead",
         {{"", v(m.restore_failures)}}},
        {"rdic_kv_files_written_total",
         "counter",
         "Sequence files written",
         {{"", v(m.kv_files_written)}}},
        {"rdic_kv_resident_bytes",
         "gauge",
         "KV bytes held in memory by live sequences",
         {{"", v(m.kv_resident_bytes)}}},
        {"rdic_kv_disk_bytes",
         "gauge",
         "Bytes of sequence files in the state directory",
         {{"", v(m.kv_disk_bytes)}}},
        {"rdic_resident_sequences",
         "gauge",
         "Sequences held in memory",
         {{"", v(m.resident_sequences)}}},
        {"rdic_requests_in_flight",
         "gauge",
         "Requests queued or generating",
         {{"", v(m.in_flight)}}},
    };
    std::string out;
    for (const Family& f : families) {
        header(out, f.name, f.type, f.help);
        for (const Sample& s : f.samples) line(out, f.name, s.labels, s.value);
    }
    m.ttft.render("rdic_time_to_first_token_seconds",
                  "From a request's arrival to its first generated token", out);
    return out;
}

}  // namespace rdic
