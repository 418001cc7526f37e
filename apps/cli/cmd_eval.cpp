// `rdic eval --results DIR`: metrics of every output in DIR/results.jsonl, without regenerating
// anything (contamination, reference similarity, embedding similarity, LLM judge), appended to
// DIR/metrics.jsonl; then the per-condition main table. See rdic/reporting/evaluate.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "rdic/isolation/openai_backend.h"
#include "rdic/records/files.h"
#include "rdic/reporting/evaluate.h"
#include "rdic/reporting/report.h"

namespace rdic::cli {

namespace {

struct EvalArgs {
    std::string results;
    EvalOptions options;
    bool no_judge = false, no_embed = false;
    std::string embed_key_file;
    std::string judge_key_file;
};

}  // namespace

Report evaluate_and_summarise(const std::string& dir, const EvalOptions& options) {
    const EvalSummary s = evaluate_results(dir, options);
    Report report = build_report({dir}, {});
    std::cout << render_main_table(report);
    std::cout << "metrics: " << s.metrics_file.string() << " (";
    bool first = true;
    for (const auto& [set, n] : s.records_written) {
        std::cout << (first ? "" : ", ") << set << " +" << n;
        first = false;
    }
    std::cout << (first ? "nothing new" : "") << ")\n";
    if (s.skipped_records > 0) {
        std::cerr << "rdic: eval: " << s.skipped_records
                  << " pairs failed in the run and have no outputs to score\n";
    }
    if (s.unreadable_records > 0) {
        throw Error(ErrorCode::file_not_found,
                    "eval: " + std::to_string(s.unreadable_records) +
                        " records could not be scored (their example files, listed above, are "
                        "missing or changed); the metrics of the others are in " +
                        printable_path(s.metrics_file));
    }
    if (s.ok_records == 0) {
        throw Error(ErrorCode::invalid_argument,
                    "eval: " + printable_path(std::filesystem::path(dir) / "results.jsonl") +
                        " holds no successful record: nothing to evaluate");
    }
    return report;
}

Action add_eval(CLI::App& app) {
    auto a = std::make_shared<EvalArgs>();
    app.add_option("--results", a->results, "Results directory of `rdic run`")->required();
    app.add_option("--judge", a->options.judge_model,
                   "Judge GGUF (default: the run's generation model)");
    app.add_option("--embed", a->options.embed_model,
                   "Embedding GGUF (default: the run's generation model)");
    app.add_option("--embed-url", a->options.embed_url,
                   "Embeddings from this OpenAI-compatible engine's /v1/embeddings instead "
                   "(http://HOST:PORT[/v1]; llama-server --embeddings, vLLM --task embed)");
    app.add_option("--embed-key-file", a->embed_key_file,
                   "File holding the --embed-url engine's API key");
    app.add_option("--embed-served-model", a->options.embed_served_model,
                   "The model name sent to --embed-url (default: \"default\")");
    app.add_option("--judge-url", a->options.judge_url,
                   "Judge on this OpenAI-compatible engine (llama-server: its \"grammar\" field "
                   "constrains the reply); --judge then gives only tokenizer and template");
    app.add_option("--judge-key-file", a->judge_key_file,
                   "File holding the --judge-url engine's API key");
    app.add_option("--judge-served-model", a->options.judge_served_model,
                   "The model name sent to --judge-url (default: the judge GGUF's file name)");
    app.add_flag("--no-judge", a->no_judge, "Skip the LLM judge");
    app.add_flag("--no-embed", a->no_embed, "Skip embedding similarity");
    app.add_option("--judge-seed", a->options.judge_seed,
                   "Seed of the order in which the judge sees the outputs");
    app.add_option("--judge-batch", a->options.judge_batch, "Outputs judged together")
        ->check(CLI::Range(1, 64));
    app.add_option("--n-gpu-layers", a->options.n_gpu_layers, "Layers to offload (-1 = all)");
    add_threads_option(app, a->options.n_threads);
    return [a] {
        a->options.judge = !a->no_judge;
        a->options.embeddings = !a->no_embed;
        if (!a->options.embed_url.empty() && !a->options.embed_model.empty()) {
            throw Error(ErrorCode::invalid_argument,
                        "--embed and --embed-url: give one (a local GGUF or a remote engine)");
        }
        if (!a->judge_key_file.empty()) {
            a->options.judge_api_key =
                read_api_key_file(std::filesystem::path(a->judge_key_file), "--judge-key-file");
        }
        if (!a->embed_key_file.empty()) {
            a->options.embed_api_key =
                read_api_key_file(std::filesystem::path(a->embed_key_file), "--embed-key-file");
        }
        const ResultsDirLock lock(a->results, "eval");
        evaluate_and_summarise(a->results, a->options);
        return 0;
    };
}

}  // namespace rdic::cli
