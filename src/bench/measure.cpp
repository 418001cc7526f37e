// Measurement pieces of the bench harness (measure.h).
#include "measure.h"

#include "rdic/bench/harness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "rdic/engine/generate.h"
#include "rdic/engine/session.h"
#include "rdic/error.h"
#include "rdic/evaluation/statistics.h"
#include "rdic/isolation/prompt.h"

namespace rdic::bench_detail {

std::vector<int32_t> parse_int_list(const std::string& text, const char* flag) {
    std::vector<int32_t> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        try {
            size_t used = 0;
            const int v = std::stoi(item, &used);
            if (used != item.size() || v < 1 || v > 64) throw std::invalid_argument(item);
            out.push_back(v);
        } catch (const std::exception&) {
            throw Error(ErrorCode::invalid_argument,
                        std::string(flag) + ": '" + item + "' is not a batch size in 1..64");
        }
    }
    return out;
}

std::string read_first_line_with(const char* file, const std::string& key) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string v = line.substr(colon + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                return v;
            }
        }
    }
    return "";
}

std::vector<double> load_average() {
    std::ifstream in("/proc/loadavg");
    double a = 0, b = 0, c = 0;
    if (in >> a >> b >> c) return {a, b, c};
    return {};
}

// Peak memory bandwidth of known accelerators, GB/s (vendors' datasheets; docs/performance.md).
double known_bandwidth_gbs(const std::vector<std::string>& devices) {
    for (const std::string& d : devices) {
        if (d.find("H200") != std::string::npos) return 4800;
        if (d.find("H100") != std::string::npos) {
            if (d.find("PCIe") != std::string::npos) return 2000;
            if (d.find("NVL") != std::string::npos) return 3900;
            return 3350;  // H100 SXM5 80GB HBM3
        }
    }
    return 0;
}

Spread spread(std::vector<double> v) {
    Spread s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.median = quantile_of_sorted(v, 0.5);
    s.min = v.front();
    s.max = v.back();
    return s;
}

json to_json(const Spread& s) {
    return {{"median", s.median}, {"min", s.min}, {"max", s.max}};
}

double per_s(double n, double ms) {
    return ms > 0 ? n * 1000.0 / ms : 0;
}

ConditionRun run_once(const std::shared_ptr<const Model>& model,
                      const std::vector<Example>& examples, Condition c,
                      const ExecutorOptions& exec) {
    ConditionRun run;
    for (const Example& ex : examples) {
        const ConditionResult r = run_condition(model, ex, make_plan(ex, c), exec);
        run.wall_ms += r.total_ms;
        run.prefill_ms += r.prefill_ms;
        run.decode_ms += r.decode_ms;
        run.prefill_tokens += r.n_prefill_tokens;
        run.decode_calls += r.n_decode_calls;
        run.drafted += r.n_drafted;
        run.accepted += r.n_accepted;
        run.kv_peak_bytes = std::max(run.kv_peak_bytes, r.kv_peak.bytes);
        run.kv_peak_cells = std::max(run.kv_peak_cells, r.kv_peak.cells_full);
        run.kv_allocated_bytes = std::max(run.kv_allocated_bytes, r.kv_allocated_bytes);
        run.kv_layout = r.kv_layout;
        for (const OutputResult& o : r.outputs) {
            run.decode_tokens += o.n_tokens;
            run.outputs.push_back({{"example", ex.id},
                                   {"cluster", o.cluster_id},
                                   {"kind", o.kind == ClusterKind::topic ? "topic" : "synthesis"},
                                   {"n_context_tokens", o.n_context_tokens},
                                   {"n_tokens", o.n_tokens},
                                   {"ttft_ms", o.timing.ttft_ms},
                                   {"decode_tokens_per_s", o.timing.decode_tokens_per_s},
                                   {"kv_bytes", o.kv_bytes}});
        }
    }
    return run;
}

DecodeRun decode_once(const std::shared_ptr<const Model>& model, const Tokens& context,
                      int32_t batch, int32_t steps, const ExecutorOptions& exec) {
    SessionOptions so;
    so.n_ctx = static_cast<int32_t>((static_cast<int64_t>(context.size()) + steps + 64) * batch);
    so.n_ctx = (so.n_ctx + 255) / 256 * 256;
    so.n_seq_max = batch;
    so.n_threads = exec.n_threads;
    so.type_k = exec.type_k;
    so.type_v = exec.type_v;
    so.flash_attn = exec.flash_attn;
    // Independent sequences share nothing: their own streams unless a layout was asked for.
    so.kv_layout = exec.kv_layout.value_or(KvLayout::per_sequence);
    Session session(model, so);
    std::vector<Sequence> seqs;
    for (int32_t b = 0; b < batch; ++b) seqs.push_back(session.open());
    std::vector<GenerationRequest> reqs(static_cast<size_t>(batch));
    for (int32_t b = 0; b < batch; ++b) {
        auto& r = reqs[static_cast<size_t>(b)];
        r.seq = &seqs[static_cast<size_t>(b)];
        r.prompt = context;
        r.max_tokens = steps + 1;  // the first token comes from the prefill's logits
        r.ignore_eog = true;
    }
    GenerateStats st;
    (void)generate(session, reqs, {}, &st);
    DecodeRun d;
    d.prefill_ms = st.prefill_ms;
    d.step_ms = st.n_steps > 0 ? st.decode_ms / st.n_steps : 0;
    uint64_t end_bytes = 0;
    for (const Sequence& s : seqs) end_bytes += s.kv_bytes();
    const uint64_t start_bytes =
        end_bytes * context.size() / std::max<size_t>(1, context.size() + steps);
    d.kv_bytes_mean = (start_bytes + end_bytes) / 2;
    return d;
}

json prompts_json(const Model& model, const std::vector<Example>& examples,
                  const std::vector<Condition>& conditions, const ExecutorOptions& exec) {
    const PromptBuilder prompts(model, exec.system_prompt, exec.chat_template);
    json out = json::array();
    for (const Example& ex : examples) {
        for (Condition c : conditions) {
            const Plan plan = make_plan(ex, c);
            json outputs = json::array();
            for (const OutputPlan& o : plan.outputs) {
                json inputs = json::array();
                for (const std::string& id : o.message_inputs) {
                    inputs.push_back({{"cluster", id}, {"label", output_label(ex, id)}});
                }
                outputs.push_back(
                    {{"cluster", o.cluster_id},
                     {"kind", o.kind == ClusterKind::topic ? "topic" : "synthesis"},
                     {"prefix", prompts.head_text() + PromptBuilder::context_block(o.context)},
                     {"message_inputs", inputs},
                     {"request", o.request + prompts.tail_text()}});
            }
            out.push_back({{"example", ex.id},
                           {"condition", std::string(to_string(c))},
                           {"outputs", outputs}});
        }
    }
    return out;
}

std::string mib(double bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", bytes / 1048576.0);
    return b;
}

}  // namespace rdic::bench_detail

namespace rdic {

nlohmann::json model_shape_json(const ModelInfo& info) {
    return {{"architecture", info.architecture},
            {"description", info.description},
            {"n_params", info.n_params},
            {"weight_bytes", info.weight_bytes},
            {"n_layers", info.n_layers},
            {"n_embd", info.n_embd},
            {"n_head", info.n_head},
            {"n_head_kv", info.n_head_kv},
            {"n_vocab", info.n_vocab}};
}

}  // namespace rdic
