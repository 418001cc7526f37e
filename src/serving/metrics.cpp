#include "rdic/serving/metrics.h"

#include <cstdio>

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

void counter(std::string& out, const std::string& name, const std::string& help, double v) {
    header(out, name, "counter", help);
    line(out, name, "", v);
}

void gauge(std::string& out, const std::string& name, const std::string& help, double v) {
    header(out, name, "gauge", help);
    line(out, name, "", v);
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
    std::string out;
    header(out, "rdic_requests_total", "counter", "Chat completion requests by outcome");
    line(out, "rdic_requests_total", "outcome=\"ok\"", static_cast<double>(m.requests_ok));
    line(out, "rdic_requests_total", "outcome=\"client_error\"",
         static_cast<double>(m.requests_client_error));
    line(out, "rdic_requests_total", "outcome=\"rejected\"",
         static_cast<double>(m.requests_rejected));
    line(out, "rdic_requests_total", "outcome=\"server_error\"",
         static_cast<double>(m.requests_server_error));
    counter(out, "rdic_prompt_tokens_total", "Prompt tokens of answered requests",
            static_cast<double>(m.prompt_tokens));
    counter(out, "rdic_cached_tokens_total", "Prompt tokens found in the KV cache (not prefilled)",
            static_cast<double>(m.cached_tokens));
    counter(out, "rdic_completion_tokens_total", "Generated tokens",
            static_cast<double>(m.completion_tokens));
    counter(out, "rdic_kv_evictions_total", "Idle topic sequences evicted from memory",
            static_cast<double>(m.evictions));
    header(out, "rdic_kv_restores_total", "counter",
           "Topic sequences brought back: from their file, or re-prefilled from stored turns");
    line(out, "rdic_kv_restores_total", "source=\"file\"", static_cast<double>(m.restores_file));
    line(out, "rdic_kv_restores_total", "source=\"reprefill\"",
         static_cast<double>(m.restores_reprefill));
    counter(out, "rdic_kv_restore_failures_total",
            "Sequence files that could not be used (corrupt, other model): re-prefilled instead",
            static_cast<double>(m.restore_failures));
    counter(out, "rdic_kv_files_written_total", "Sequence files written",
            static_cast<double>(m.kv_files_written));
    gauge(out, "rdic_kv_resident_bytes", "KV bytes held in memory by live sequences",
          static_cast<double>(m.kv_resident_bytes));
    gauge(out, "rdic_kv_disk_bytes", "Bytes of sequence files in the state directory",
          static_cast<double>(m.kv_disk_bytes));
    gauge(out, "rdic_resident_sequences", "Sequences held in memory",
          static_cast<double>(m.resident_sequences));
    gauge(out, "rdic_requests_in_flight", "Requests queued or generating",
          static_cast<double>(m.in_flight));
    m.ttft.render("rdic_time_to_first_token_seconds",
                  "From a request's arrival to its first generated token", out);
    return out;
}

}  // namespace rdic
