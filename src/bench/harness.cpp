// The benchmark harness (rdic/bench/harness.h): the workload, the timed conditions, the
// conditions together, the decode roofline, and the "rdic.bench/v1" document.
#include "rdic/bench/harness.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "measure.h"
#include "rdic/bench/workload.h"
#include "rdic/build_info.h"
#include "rdic/clock.h"
#include "rdic/error.h"
#include "rdic/isolation/executor.h"

namespace rdic {

using namespace bench_detail;

namespace {

constexpr Condition kPocConditions[] = {Condition::sequential, Condition::prompted,
                                        Condition::turn_based, Condition::semantic};

}  // namespace

BenchOutcome run_bench(const std::shared_ptr<const Model>& model, const BenchOptions& args,
                       const BenchProgress& progress) {
    const auto say = [&](const std::string& what) {
        if (progress) progress(what);
    };
    if (args.repeats < 1) throw Error(ErrorCode::invalid_argument, "--repeats must be >= 1");
    if (args.together && args.naive) {
        throw Error(ErrorCode::invalid_argument, "--together runs batched only, not with --naive");
    }
    std::vector<Condition> conditions;
    {
        std::stringstream ss(args.conditions);
        std::string name;
        while (std::getline(ss, name, ',')) {
            if (name.empty()) continue;
            const Condition c = parse_condition(name);
            if (is_control(c)) {
                throw Error(ErrorCode::invalid_argument,
                            "--conditions: " + name +
                                " is a control without outputs; bench measures outputs");
            }
            conditions.push_back(c);
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
    exec.draft = args.draft;
    exec.n_draft_max = args.n_draft_max;
    exec.draft_p_min = args.draft_p_min;

    if (!model) throw Error(ErrorCode::invalid_argument, "bench: no model");
    const auto load0 = load_average();
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
    BenchOutcome outcome;
    if (args.want_prompts) outcome.prompts = prompts_json(*model, examples, conditions, exec);

    const auto devices = compute_devices();
    const double bandwidth =
        args.bandwidth_gbs > 0 ? args.bandwidth_gbs : known_bandwidth_gbs(devices);
    std::string cpu = read_first_line_with("/proc/cpuinfo", "model name");
    char host[256] = {};
    gethostname(host, sizeof host - 1);

    say(info.name + ", " + workload_name + " (" + std::to_string(examples.size()) + " examples), " +
        std::to_string(conditions.size()) + " conditions x " + std::to_string(args.repeats) +
        " repeats, " + std::to_string(args.max_tokens) + " tokens per output" +
        (args.naive ? ", naive" : ", batched"));

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
            say(std::string(to_string(c)) + " " + std::to_string(r + 1) + "/" +
                std::to_string(args.repeats));
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
            if (why_condition_runs_alone(c).empty()) group.push_back(c);
        }
        std::vector<double> wall;
        json runs = json::array();
        for (int32_t r = 0; r < args.repeats; ++r) {
            say("together " + std::to_string(r + 1) + "/" + std::to_string(args.repeats));
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
            say("decode batch " + std::to_string(b));
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
          {"draft", args.draft ? json(args.draft->info().path.filename().string()) : json(nullptr)},
          {"draft_max", args.n_draft_max},
          {"draft_p_min", args.draft_p_min}}},
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
    if (!conditions.empty()) head << table.str();
    if (n_poc == 4) {
        char line[96];
        std::snprintf(line, sizeof line, "four POC conditions together: %.3f s\n", poc / 1000);
        head << line;
    }
    if (!batches.empty()) head << dtable.str();
    outcome.doc = std::move(doc);
    outcome.text = head.str();
    return outcome;
}

}  // namespace rdic
