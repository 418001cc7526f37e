// `rdic bench`: parses the options, runs the harness (rdic/bench/harness.h) with a progress
// line on stderr, prints its tables and writes its JSON document ("rdic.bench/v1",
// docs/performance.md).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "rdic/bench/harness.h"
#include "rdic/clock.h"
#include "rdic/records/files.h"

namespace rdic::cli {

namespace {

struct BenchArgs {
    std::string model;
    std::string out;
    std::string dump_prompts;
    DraftArgs draft;
    BenchOptions o;
};

int run_bench_command(const BenchArgs& a) {
    // Checked before the model loads (the harness checks the rest before its first timed run).
    if (a.o.repeats < 1) throw Error(ErrorCode::invalid_argument, "--repeats must be >= 1");
    if (a.o.together && a.o.naive) {
        throw Error(ErrorCode::invalid_argument, "--together runs batched only, not with --naive");
    }
    const auto model = load_model(a.model, a.o.n_gpu_layers);
    BenchOptions o = a.o;
    o.draft = load_draft(a.draft, *model, a.o.n_gpu_layers);
    o.n_draft_max = a.draft.n_max;
    o.draft_p_min = a.draft.p_min;
    o.want_prompts = !a.dump_prompts.empty();
    const BenchOutcome r = run_bench(
        model, o, [](const std::string& what) { std::cerr << "rdic bench: " << what << "\n"; });
    if (!a.dump_prompts.empty()) write_file_atomic(a.dump_prompts, r.prompts.dump(1) + "\n");
    std::cout << r.text;
    const std::filesystem::path out =
        a.out.empty() ? std::filesystem::path("results") / ("bench-" + iso8601_utc_now() + ".json")
                      : std::filesystem::path(a.out);
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    write_file_atomic(out, r.doc.dump(1) + "\n");
    std::cout << "json: " << out.string() << "\n";
    return 0;
}

}  // namespace

Action add_bench(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    BenchArgs* a = args.get();
    app.description(
        "Time the experiment's workload: per condition wall time, prefill/decode tokens/s, TTFT "
        "per output, KV bytes (median and spread over --repeats), then lockstep decoding at "
        "--decode-batches against the memory-bandwidth roofline. Default workload: a synthetic "
        "example shaped like the proof of concept's (topic contexts 420/450 tokens, synthesis "
        "220 + the topic outputs, 1,090 shared), 300 tokens per output, fixed length.");
    app.add_option("--model", a->model, "GGUF file (default: the cached default model)");
    app.add_option("--data", a->o.data,
                   "Dataset files or directories instead of the synthetic workload");
    app.add_option("--limit", a->o.limit, "Use only the first N examples of --data");
    app.add_option("--out", a->out, "JSON file to write (default: results/bench-<time>.json)");
    app.add_option("--conditions", a->o.conditions, "Comma-separated conditions ('' = none)")
        ->capture_default_str();
    app.add_option("--max-tokens,-n", a->o.max_tokens, "Tokens per output")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_flag("--stop-at-eog", a->o.stop_at_eog,
                 "Stop outputs at end of generation (default: always --max-tokens)");
    app.add_option("--repeats", a->o.repeats, "Timed runs of each measurement (median, min, max)")
        ->capture_default_str();
    app.add_option("--warmup", a->o.warmup, "Untimed warm-up runs (16 tokens per output)")
        ->capture_default_str();
    app.add_flag("--naive", a->o.naive,
                 "The proof of concept's execution: every output prefilled from scratch, serially");
    app.add_flag("--together", a->o.together,
                 "Also run the batched conditions (not separate_contexts) all together in one "
                 "session: one lockstep batch for every topic output, then every synthesis");
    app.add_option("--kv-type", a->o.kv_type, "KV cache type for K and V: f16, q8_0, q4_0, ...")
        ->capture_default_str();
    add_flash_attn_option(app, a->o.flash_attn, "llama.cpp flash attention: auto, on or off");
    add_kv_layout_option(app, a->o.kv_layout);
    add_draft_options(app, a->draft);
    app.add_option("--n-gpu-layers", a->o.n_gpu_layers, "Layers to offload (-1 = all)")
        ->capture_default_str();
    add_threads_option(app, a->o.n_threads);
    app.add_option("--decode-batches", a->o.decode_batches,
                   "Batch sizes for the decode/roofline measurement ('' = skip)")
        ->capture_default_str();
    app.add_option("--decode-context", a->o.decode_context, "Context tokens per decoding sequence")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--decode-steps", a->o.decode_steps, "Decode steps timed per batch size")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_option("--bandwidth-gbs", a->o.bandwidth_gbs,
                   "Peak memory bandwidth for the roofline (default: known GPUs; none on CPU)");
    app.add_option("--machine", a->o.machine, "Name of the machine, recorded in the JSON");
    app.add_option("--dump-prompts", a->dump_prompts,
                   "Also write every output's prompt pieces as JSON (to drive another server)");
    app.footer("JSON fields, the workloads and measured results: docs/performance.md");
    return [args] { return run_bench_command(*args); };
}

}  // namespace rdic::cli
