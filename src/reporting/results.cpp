#include "rdic/reporting/results.h"

#include <filesystem>

#include "rdic/sha256.h"

namespace rdic {

ResultRecord make_result_record(const ConditionResult& c) {
    ResultRecord r;
    r.ok = true;
    r.condition = std::string(to_string(c.condition));
    r.naive = c.naive;
    for (Condition other : c.together_with) r.together_with.emplace_back(to_string(other));
    for (const OutputResult& o : c.outputs) {
        r.outputs.push_back(
            {.cluster = o.cluster_id,
             .kind = o.kind == ClusterKind::topic ? "topic" : "synthesis",
             .text = o.text,
             .n_tokens = o.n_tokens,
             .n_context_tokens = o.n_context_tokens,
             .stop_reason = std::string(to_string(o.stop_reason)),
             .kv_bytes = c.kv_measured ? std::optional<uint64_t>(o.kv_bytes) : std::nullopt,
             .prefill_ms = o.timing.prefill_ms,
             .ttft_ms = o.timing.ttft_ms,
             .decode_tokens_per_s = o.timing.decode_tokens_per_s,
             .total_ms = o.timing.total_ms,
             .prompt_copy_share = o.prompt_copy_share,
             .cached_tokens = o.n_cached_tokens});
    }
    for (const AnswerResult& a : c.answers) {
        r.answers.push_back({.question = a.question_id,
                             .text = a.text,
                             .n_tokens = a.n_tokens,
                             .n_context_tokens = a.n_context_tokens,
                             .stop_reason = std::string(to_string(a.stop_reason))});
    }
    if (c.kv_measured) {
        r.kv = KvRecord{.peak_bytes = c.kv_peak.bytes,
                        .peak_cells_full = c.kv_peak.cells_full,
                        .peak_cells_swa = c.kv_peak.cells_swa,
                        .allocated_bytes = c.kv_allocated_bytes,
                        .sessions = c.n_sessions,
                        .layout = std::string(to_string(c.kv_layout)),
                        .weights_bytes = c.weights_bytes,
                        .separate_instances_bytes = c.separate_instances_bytes()};
    }
    r.timing = {.total_ms = c.total_ms,
                .prefill_ms = c.prefill_ms,
                .decode_ms = c.decode_ms,
                .decode_calls = c.n_decode_calls,
                .prefill_tokens = c.n_prefill_tokens,
                .questions_ms = c.questions_ms,
                .cached_prompt_tokens = c.n_cached_prompt_tokens,
                .speculation = std::nullopt};
    if (c.n_drafted > 0 || c.n_draft_calls > 0) {
        r.timing.speculation = SpeculationRecord{.drafted = c.n_drafted,
                                                 .accepted = c.n_accepted,
                                                 .draft_calls = c.n_draft_calls,
                                                 .draft_ms = c.draft_ms};
    }
    return r;
}

ModelIdentity model_identity(const Model& model) {
    const ModelInfo& info = model.info();
    ModelIdentity m;
    m.file = info.path.filename().string();
    m.path = std::filesystem::absolute(info.path).string();
    m.bytes = info.file_bytes;
    m.sha256_prefix = sha256_file_hex(info.path).substr(0, 16);
    m.architecture = info.architecture;
    m.name = info.name;
    return m;
}

SamplingConfig sampling_config(const SamplerOptions& s) {
    return {.temperature = s.temperature,
            .top_k = s.top_k,
            .top_p = s.top_p,
            .min_p = s.min_p,
            .seed = s.seed};
}

}  // namespace rdic
