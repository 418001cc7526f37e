// `rdic bench`: the experiment's workload, timed. Per condition (median and spread over
// repeats): wall time, prefill and decode tokens/s, TTFT per output, KV bytes per sequence and
// peak; then lockstep decoding at batch 1 and 3 against the memory-bandwidth roofline. Prints
// tables and writes everything as JSON (format "rdic.bench/v1", docs/performance.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "commands.h"
#include "rdic/bench/workload.h"
#include "rdic/build_info.h"
#include "rdic/clock.h"
#include "rdic/datasets/example.h"
#include "rdic/evaluation/statistics.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/prompt.h"
#include "rdic/records/files.h"
#include "rdic/reporting/results.h"

namespace rdic::cli {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr Condition kPocConditions[] = {Condition::sequential, Condition::prompted,
                                        Condition::turn_based, Condition::semantic};

struct BenchArgs {
    std::string model;
    std::vector<std::string> data;  // empty = the synthetic POC-shaped workload
    std::string out;
    std::string conditions = "sequential,prompted,turn_based,semantic,separate_contexts";
    int32_t max_tokens = 300;
    int32_t repeats = 3;
    int32_t warmup = 1;
    bool naive = false;
    bool together = false;
    bool stop_at_eog = false;
    std::string kv_type = "f16";
    std::string flash_attn = "auto";
    std::string kv_layout = "auto";
    int32_t n_gpu_layers = -1;
    DraftArgs draft;
    int32_t n_threads = 0;
    int32_t limit = 0;
    std::string decode_batches = "1,3";
    int32_t decode_context = 1090;
    int32_t decode_steps = 64;
    double bandwidth_gbs = 0;
    std::string machine;
    std::string dump_prompts;
};

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

FlashAttn parse_flash_attn(const std::string& s) {
    if (s == "auto") return FlashAttn::automatic;
    if (s == "on") return FlashAttn::on;
    if (s == "off") return FlashAttn::off;
    throw Error(ErrorCode::invalid_argument, "--flash-attn: '" + s + "' (expected auto, on, off)");
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

struct Spread {
    double median = 0, min = 0, max = 0;
};

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

// One timed pass of one condition over every example.
struct ConditionRun {
    double wall_ms = 0, prefill_ms = 0, decode_ms = 0;
    int64_t prefill_tokens = 0, decode_tokens = 0, decode_calls = 0;
    int64_t drafted = 0, accepted = 0;  // speculative decoding (--draft)
    uint64_t kv_peak_bytes = 0;         // most of any example
    int64_t kv_peak_cells = 0;
    uint64_t kv_allocated_bytes = 0;
    KvLayout kv_layout = KvLayout::unified;
    json outputs = json::array();
};

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

// Lockstep decoding of `batch` independent sequences (not forks), each first prefilled with
// `context` tokens; the mean step time of `steps` steps.
struct DecodeRun {
    double step_ms = 0, prefill_ms = 0;
    uint64_t kv_bytes_mean = 0;  // all sequences' KV during the steps (mean of start and end)
};

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
    // The prompt text every output of the batched execution is generated from, for driving
    // another server with the same workload: prefix + rendered messages + request + tail.
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

int run_bench(const BenchArgs& args) {
    if (args.repeats < 1) throw Error(ErrorCode::invalid_argument, "--repeats must be >= 1");
    if (args.together && args.naive) {
        throw Error(ErrorCode::invalid_argument, "--together runs batched only, not with --naive");
    }
    std::vector<Condition> conditions;
    {
        std::stringstream ss(args.conditions);
        std::string name;
        while (std::getline(ss, name, ',')) {
            if (!name.empty()) conditions.push_back(parse_condition(name));
        }
    }
    const std::vector<int32_t> batches = parse_int_list(args.decode_batches, "--decode-batches");
    if (conditions.empty() && batches.empty()) {
        throw Error(ErrorCode::invalid_argument, "nothing to run: no conditions, no batches");
    }
    ExecutorOptions exec;
    exec.max_tokens = args.max_tokens;
    exec.naive = args.naive;
    exec.n_threads = args.n_threads;
    exec.ignore_eog = !args.stop_at_eog;
    exec.type_k = exec.type_v = parse_kv_type(args.kv_type);
    exec.flash_attn = parse_flash_attn(args.flash_attn);
    exec.kv_layout = parse_kv_layout(args.kv_layout);  // checked by the option already
    exec.n_draft_max = args.draft.n_max;
    exec.draft_p_min = args.draft.p_min;

    const auto load0 = load_average();
    const auto model = load_model(args.model, args.n_gpu_layers);
    exec.draft = load_draft(args.draft, *model, args.n_gpu_layers);
    const ModelInfo& info = model->info();

    // Workload.
    std::vector<Example> examples;
    std::string workload_name = "synthetic-poc";
    if (args.data.empty()) {
        examples.push_back(synthetic_poc_example(*model));
    } else {
        workload_name = "dataset";
        std::vector<std::filesystem::path> paths(args.data.begin(), args.data.end());
        std::vector<Issue> issues;
        for (const auto& f : expand_data_paths(paths, &issues)) {
            LoadResult r = load_example(f);
            issues.insert(issues.end(), r.issues.begin(), r.issues.end());
            if (r.example && r.issues.empty()) examples.push_back(std::move(*r.example));
        }
        if (!issues.empty()) {
            throw Error(ErrorCode::invalid_argument, "dataset: " + issues.front().to_string());
        }
        if (args.limit > 0 && examples.size() > static_cast<size_t>(args.limit)) {
            examples.resize(static_cast<size_t>(args.limit));
        }
        if (examples.empty()) throw Error(ErrorCode::invalid_argument, "no examples in --data");
    }
    json workload = {{"name", workload_name}, {"examples", examples.size()}};
    if (examples.size() == 1) {
        const WorkloadShape shape = measure_shape(*model, examples[0]);
        json clusters = json::object();
        for (const auto& [id, n] : shape.cluster_tokens) clusters[id] = n;
        workload["context_tokens"] = {{"clusters", clusters}, {"shared", shape.shared_tokens}};
    }
    if (!args.dump_prompts.empty()) {
        write_file_atomic(args.dump_prompts,
                          prompts_json(*model, examples, conditions, exec).dump(1) + "\n");
    }

    const auto devices = compute_devices();
    const double bandwidth =
        args.bandwidth_gbs > 0 ? args.bandwidth_gbs : known_bandwidth_gbs(devices);
    std::string cpu = read_first_line_with("/proc/cpuinfo", "model name");
    char host[256] = {};
    gethostname(host, sizeof host - 1);

    std::cerr << "rdic bench: " << info.name << ", " << workload_name << " (" << examples.size()
              << " examples), " << conditions.size() << " conditions x " << args.repeats
              << " repeats, " << args.max_tokens << " tokens per output"
              << (args.naive ? ", naive" : ", batched") << "\n";

    // Warm-up (untimed): load weights onto the device, build graphs, fill caches.
    for (int32_t w = 0; w < args.warmup; ++w) {
        ExecutorOptions short_exec = exec;
        short_exec.max_tokens = std::min(exec.max_tokens, 16);
        (void)run_once(model, {examples.front()},
                       conditions.empty() ? Condition::semantic : conditions.front(), short_exec);
    }

    json conds = json::array();
    std::map<Condition, double> median_wall;
    std::ostringstream table;
    table << "condition          wall s [min-max]        prefill tok/s  decode tok/s  "
             "TTFT ms per output         KV peak MiB\n";
    for (Condition c : conditions) {
        std::vector<ConditionRun> runs;
        for (int32_t r = 0; r < args.repeats; ++r) {
            std::cerr << "  " << to_string(c) << " " << r + 1 << "/" << args.repeats << "\r";
            runs.push_back(run_once(model, examples, c, exec));
        }
        std::vector<double> wall, pre, dec;
        for (const auto& r : runs) {
            wall.push_back(r.wall_ms);
            pre.push_back(per_s(static_cast<double>(r.prefill_tokens), r.prefill_ms));
            dec.push_back(per_s(static_cast<double>(r.decode_tokens), r.decode_ms));
        }
        // TTFT per output position, median over repeats.
        json ttft = json::array();
        std::string ttft_text;
        const size_t n_out = runs.front().outputs.size();
        for (size_t i = 0; i < n_out; ++i) {
            std::vector<double> v;
            for (const auto& r : runs) v.push_back(r.outputs[i]["ttft_ms"].get<double>());
            const Spread s = spread(v);
            ttft.push_back({{"example", runs.front().outputs[i]["example"]},
                            {"cluster", runs.front().outputs[i]["cluster"]},
                            {"ttft_ms", to_json(s)}});
            if (i < 4)
                ttft_text += (ttft_text.empty() ? "" : "/") + std::to_string(std::lround(s.median));
        }
        if (n_out > 4) ttft_text += "/...";
        json run_list = json::array();
        for (const auto& r : runs) {
            run_list.push_back(
                {{"wall_ms", r.wall_ms},
                 {"prefill_ms", r.prefill_ms},
                 {"decode_ms", r.decode_ms},
                 {"prefill_tokens", r.prefill_tokens},
                 {"decode_tokens", r.decode_tokens},
                 {"decode_calls", r.decode_calls},
                 {"drafted", r.drafted},
                 {"accepted", r.accepted},
                 {"prefill_tokens_per_s",
                  per_s(static_cast<double>(r.prefill_tokens), r.prefill_ms)},
                 {"decode_tokens_per_s", per_s(static_cast<double>(r.decode_tokens), r.decode_ms)},
                 {"kv_peak_bytes", r.kv_peak_bytes},
                 {"kv_peak_cells", r.kv_peak_cells},
                 {"kv_allocated_bytes", r.kv_allocated_bytes},
                 {"outputs", r.outputs}});
        }
        const Spread ws = spread(wall), ps = spread(pre), ds = spread(dec);
        median_wall[c] = ws.median;
        conds.push_back(
            {{"condition", std::string(to_string(c))},
             {"wall_ms", to_json(ws)},
             {"prefill_tokens_per_s", to_json(ps)},
             {"decode_tokens_per_s", to_json(ds)},
             {"ttft_ms", ttft},
             {"kv_layout", std::string(to_string(runs.front().kv_layout))},
             {"kv_peak_bytes", runs.front().kv_peak_bytes},
             {"kv_per_sequence_bytes",
              [&] {
                  json a = json::array();
                  for (const auto& o : runs.front().outputs) {
                      a.push_back({{"cluster", o["cluster"]}, {"kv_bytes", o["kv_bytes"]}});
                  }
                  return a;
              }()},
             {"runs", run_list}});
        char line[256];
        std::snprintf(line, sizeof line, "%-18s %7.3f [%.3f-%.3f] %13.0f %13.1f  %-26s %11s\n",
                      std::string(to_string(c)).c_str(), ws.median / 1000, ws.min / 1000,
                      ws.max / 1000, ps.median, ds.median, ttft_text.c_str(),
                      mib(static_cast<double>(runs.front().kv_peak_bytes)).c_str());
        table << line;
    }

    // The batched conditions again, all of them together in one session per example.
    json together = nullptr;
    if (args.together) {
        std::vector<Condition> group;
        for (Condition c : conditions) {
            if (c != Condition::separate_contexts) group.push_back(c);
        }
        std::vector<double> wall;
        json runs = json::array();
        for (int32_t r = 0; r < args.repeats; ++r) {
            std::cerr << "  together " << r + 1 << "/" << args.repeats << "\r";
            double ms = 0;
            int64_t decode_calls = 0, decode_tokens = 0;
            json outs = json::array();
            for (const Example& ex : examples) {
                std::vector<Plan> plans;
                for (Condition c : group) plans.push_back(make_plan(ex, c));
                const auto results = run_conditions_together(model, ex, plans, exec);
                if (results.empty()) continue;
                ms += results.front().total_ms;
                decode_calls += results.front().n_decode_calls;
                for (const ConditionResult& res : results) {
                    for (const OutputResult& o : res.outputs) {
                        decode_tokens += o.n_tokens;
                        outs.push_back({{"example", ex.id},
                                        {"condition", std::string(to_string(res.condition))},
                                        {"cluster", o.cluster_id},
                                        {"n_tokens", o.n_tokens},
                                        {"ttft_ms", o.timing.ttft_ms}});
                    }
                }
            }
            wall.push_back(ms);
            runs.push_back({{"wall_ms", ms},
                            {"decode_calls", decode_calls},
                            {"decode_tokens", decode_tokens},
                            {"outputs", outs}});
        }
        json names = json::array();
        for (Condition c : group) names.push_back(std::string(to_string(c)));
        const Spread ws = spread(wall);
        together = {{"conditions", names}, {"wall_ms", to_json(ws)}, {"runs", runs}};
        char line[256];
        std::snprintf(line, sizeof line,
                      "%-18s %7.3f [%.3f-%.3f]  (%zu conditions in one session)\n", "together",
                      ws.median / 1000, ws.min / 1000, ws.max / 1000, group.size());
        table << line;
    }

    // Decode at fixed batch sizes against the bandwidth roofline.
    json decode = json::array();
    std::ostringstream dtable;
    if (!batches.empty()) {
        Tokens ctx = model->tokenize(
            [&] {
                std::string all;
                for (const Turn& t : examples.front().turns) all += t.text + "\n\n";
                while (all.size() < static_cast<size_t>(args.decode_context) * 8) all += all;
                return all;
            }(),
            true, false);
        ctx.resize(static_cast<size_t>(args.decode_context));
        dtable << "batch  context  step ms [min-max]      tok/s   weights+KV GB/step  "
                  "GB/s    roofline %\n";
        double tok_s_b1 = 0;
        for (int32_t b : batches) {
            std::vector<double> step;
            uint64_t kv = 0;
            for (int32_t r = 0; r < args.repeats; ++r) {
                const DecodeRun d = decode_once(model, ctx, b, args.decode_steps, exec);
                step.push_back(d.step_ms);
                kv = d.kv_bytes_mean;
            }
            const Spread s = spread(step);
            const double bytes = static_cast<double>(info.weight_bytes + kv);
            const double gbs = s.median > 0 ? bytes / (s.median / 1000) / 1e9 : 0;
            const double tok_s = s.median > 0 ? b * 1000.0 / s.median : 0;
            if (b == 1) tok_s_b1 = tok_s;
            json d = {{"batch", b},
                      {"context_tokens", args.decode_context},
                      {"steps", args.decode_steps},
                      {"step_ms", to_json(s)},
                      {"tokens_per_s", tok_s},
                      {"weight_bytes", info.weight_bytes},
                      {"kv_bytes_read", kv},
                      {"bytes_per_step", bytes},
                      {"achieved_gbs", gbs}};
            if (bandwidth > 0) d["roofline_share"] = gbs / bandwidth;
            if (b != 1 && tok_s_b1 > 0) d["speedup_vs_batch1"] = tok_s / tok_s_b1;
            decode.push_back(d);
            char line[256];
            std::snprintf(
                line, sizeof line, "%5d  %7d  %7.2f [%.2f-%.2f] %8.1f   %10.3f  %8.0f  %8s\n", b,
                args.decode_context, s.median, s.min, s.max, tok_s, bytes / 1e9, gbs,
                bandwidth > 0 ? std::to_string(std::lround(100 * gbs / bandwidth)).c_str() : "-");
            dtable << line;
        }
    }

    json totals = json::object();
    double poc = 0;
    int n_poc = 0;
    for (Condition c : kPocConditions) {
        if (median_wall.count(c)) {
            poc += median_wall[c];
            ++n_poc;
        }
    }
    if (n_poc == 4) totals["poc_four_conditions_ms"] = poc;
    if (args.together) totals["together_ms"] = together["wall_ms"]["median"];

    json doc = {
        {"format", "rdic.bench/v1"},
        {"finished_at", iso8601_utc_now()},
        {"machine",
         {{"name", args.machine},
          {"host", host},
          {"cpu", cpu},
          {"n_cpu", sysconf(_SC_NPROCESSORS_ONLN)},
          {"devices", devices},
          {"bandwidth_gbs", bandwidth},
          {"load_average_start", load0},
          {"load_average_end", load_average()}}},
        {"versions",
         {{"rdic", build_info::kVersion},
          {"llama_cpp", llama_cpp_version()},
          {"llama_cpp_pinned", build_info::kLlamaCppPinnedCommit}}},
        {"model",
         [&] {
             json m = model_shape_json(info);
             m["file"] = info.path.filename().string();
             return m;
         }()},
        {"config",
         {{"conditions", args.conditions},
          {"max_tokens", args.max_tokens},
          {"fixed_length", !args.stop_at_eog},
          {"repeats", args.repeats},
          {"warmup", args.warmup},
          {"naive", args.naive},
          {"together", args.together},
          {"kv_type", args.kv_type},
          {"flash_attn", args.flash_attn},
          {"kv_layout", args.kv_layout},
          {"n_gpu_layers", args.n_gpu_layers},
          {"threads", args.n_threads},
          {"decode_batches", batches},
          {"decode_steps", args.decode_steps},
          {"draft", exec.draft ? json(exec.draft->info().path.filename().string()) : json(nullptr)},
          {"draft_max", args.draft.n_max},
          {"draft_p_min", args.draft.p_min}}},
        {"workload", workload},
        {"conditions", conds},
        {"together", together},
        {"decode", decode},
        {"totals", totals}};

    std::ostringstream head;
    head << "model " << info.name << " (" << info.path.filename().string() << ", "
         << info.description << "), " << workload_name << ", " << args.max_tokens
         << " tokens per output, " << (args.naive ? "naive" : "batched") << ", KV " << args.kv_type
         << ", flash attention " << args.flash_attn << ", KV layout " << args.kv_layout << "\n"
         << "machine " << (args.machine.empty() ? std::string(host) : args.machine) << ": "
         << (devices.empty() ? cpu : devices.back()) << ", load "
         << (load0.empty() ? 0.0 : load0[0]) << "; median of " << args.repeats << " runs\n";
    std::cout << head.str();
    if (!conditions.empty()) std::cout << table.str();
    if (n_poc == 4) {
        std::printf("four POC conditions together: %.3f s\n", poc / 1000);
    }
    if (!batches.empty()) std::cout << dtable.str();
    const std::filesystem::path out =
        args.out.empty()
            ? std::filesystem::path("results") / ("bench-" + iso8601_utc_now() + ".json")
            : std::filesystem::path(args.out);
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    write_file_atomic(out, doc.dump(1) + "\n");
    std::cout << "json: " << out.string() << "\n";
    return 0;
}

}  // namespace

Action add_bench(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    app.description(
        "Time the experiment's workload: per condition wall time, prefill/decode tokens/s, TTFT "
        "per output, KV bytes (median and spread over --repeats), then lockstep decoding at "
        "--decode-batches against the memory-bandwidth roofline. Default workload: a synthetic "
        "example shaped like the proof of concept's (topic contexts 420/450 tokens, synthesis "
        "220 + the topic outputs, 1,090 shared), 300 tokens per output, fixed length.");
    app.add_option("--model", a->model, "GGUF file (default: the cached default model)");
    app.add_option("--data", a->data,
                   "Dataset files or directories instead of the synthetic workload");
    app.add_option("--limit", a->limit, "Use only the first N examples of --data");
    app.add_option("--out", a->out, "JSON file to write (default: results/bench-<time>.json)");
    app.add_option("--conditions", a->conditions, "Comma-separated conditions ('' = none)")
        ->capture_default_str();
    app.add_option("--max-tokens,-n", a->max_tokens, "Tokens per output")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_flag("--stop-at-eog", a->stop_at_eog,
                 "Stop outputs at end of generation (default: always --max-tokens)");
    app.add_option("--repeats", a->repeats, "Timed runs of each measurement (median, min, max)")
        ->capture_default_str();
    app.add_option("--warmup", a->warmup, "Untimed warm-up runs (16 tokens per output)")
        ->capture_default_str();
    app.add_flag("--naive", a->naive,
                 "The proof of concept's execution: every output prefilled from scratch, serially");
    app.add_flag("--together", a->together,
                 "Also run the batched conditions (not separate_contexts) all together in one "
                 "session: one lockstep batch for every topic output, then every synthesis");
    app.add_option("--kv-type", a->kv_type, "KV cache type for K and V: f16, q8_0, q4_0, ...")
        ->capture_default_str();
    app.add_option("--flash-attn", a->flash_attn, "auto, on or off")->capture_default_str();
    add_kv_layout_option(app, a->kv_layout);
    add_draft_options(app, a->draft);
    app.add_option("--n-gpu-layers", a->n_gpu_layers, "Layers to offload (-1 = all)")
        ->capture_default_str();
    add_threads_option(app, a->n_threads);
    app.add_option("--decode-batches", a->decode_batches,
                   "Batch sizes for the decode/roofline measurement ('' = skip)")
        ->capture_default_str();
    app.add_option("--decode-context", a->decode_context, "Context tokens per decoding sequence")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--decode-steps", a->decode_steps, "Decode steps timed per batch size")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_option("--bandwidth-gbs", a->bandwidth_gbs,
                   "Peak memory bandwidth for the roofline (default: known GPUs; none on CPU)");
    app.add_option("--machine", a->machine, "Name of the machine, recorded in the JSON");
    app.add_option("--dump-prompts", a->dump_prompts,
                   "Also write every output's prompt pieces as JSON (to drive another server)");
    app.footer("JSON fields, the workloads and measured results: docs/performance.md");
    return [a] { return run_bench(*a); };
}

}  // namespace rdic::cli
