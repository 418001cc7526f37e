// `rdic run`: parses the options, loads the data and the model, hands them to rdic::Experiment
// (rdic/isolation/experiment.h: results directory, lock, resume, limits, records, summary.txt),
// draws a progress bar with ETA on stderr, turns Ctrl-C into a clean stop, prints the summary and
// evaluates at the end.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "cli_common.h"
#include "cluster_options.h"
#include "commands.h"
#include "rdic/build_info.h"
#include "rdic/clock.h"
#include "rdic/datasets/example.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/experiment.h"
#include "rdic/isolation/openai_backend.h"
#include "rdic/isolation/together.h"
#include "rdic/records/files.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "rdic/reporting/evaluate.h"
#include "rdic/reporting/report.h"
#include "rdic/reporting/results.h"

namespace rdic::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct RunArgs {
    std::string model;
    std::vector<std::string> data;
    std::string out;
    std::string conditions = "sequential,prompted,turn_based,semantic,separate_contexts";
    int32_t max_tokens = 256;
    SamplerOptions sampling;
    bool resume = false;
    bool naive = false;
    bool separate_conditions = false;
    bool together = false;
    bool seed_compat = false;
    std::string question_wording = "value-only";
    bool no_questions = false;
    int32_t per_domain = 0;
    int32_t answer_tokens = kAnswerMaxTokens;
    std::string kv_layout = "auto";
    std::string system_prompt = "You are a helpful assistant.";
    int32_t n_gpu_layers = -1;
    int32_t n_threads = 0;
    int32_t limit = 0;
    DraftArgs draft;
    bool no_eval = false;
    EvalOptions eval;
    bool no_judge = false;
    bool no_embed = false;
    ClusterArgs clusters;
    // Remote backend (--backend URL): docs/backends.md.
    std::string backend;
    std::string api_key_file;
    std::string backend_model;
    int32_t backend_concurrency = 4;
    double backend_timeout_s = 300;
    int32_t backend_retries = 4;
    std::string backend_prompt = "tokens";
    bool no_cache_salt = false;
};

std::string hms(double seconds) {
    const auto s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

std::string timestamp_dir() {
    std::string iso = iso8601_utc_now();  // 2026-11-25T23:36:35Z
    std::string out;
    for (char c : iso) {
        if (c == ':' || c == 'Z') continue;
        out += c == 'T' ? '-' : c;
    }
    return out;
}

class Progress {
public:
    Progress(size_t total, size_t already) : total_(total), done_(already), tty_(isatty(2) != 0) {}
    void start(const std::string& what) {
        current_ = what;
        draw();
    }
    void finish_one() {
        ++done_;
        ++done_here_;
    }
    void end() {
        if (tty_) std::fprintf(stderr, "\n");
    }

private:
    void draw() const {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
        const size_t left = total_ - done_;
        const std::string eta =
            done_here_ > 0
                ? hms(elapsed / static_cast<double>(done_here_) * static_cast<double>(left))
                : "?";
        const int width = 24;
        const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
        std::string bar(filled, '#');
        bar.resize(width, '.');
        std::fprintf(stderr, "%s[%s] %zu/%zu %s | %s elapsed | ETA %s%s", tty_ ? "\r" : "",
                     bar.c_str(), done_, total_, current_.c_str(), hms(elapsed).c_str(),
                     eta.c_str(), tty_ ? "\x1b[K" : "\n");
        std::fflush(stderr);
    }
    size_t total_, done_, done_here_ = 0;
    bool tty_;
    std::string current_;
    Clock::time_point t0_ = Clock::now();
};

// Ctrl-C: the pair in flight finishes and is recorded, then the run stops and says how to go
// on. A second Ctrl-C ends the process at once (the records written so far are whole).
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) {
    g_interrupted = 1;
    std::signal(SIGINT, SIG_DFL);
}

std::vector<Condition> parse_conditions(const std::string& list) {
    std::vector<Condition> out;
    std::stringstream ss(list);
    std::string name;
    while (std::getline(ss, name, ',')) {
        if (name.empty()) continue;
        const Condition c = parse_condition(name);
        if (std::find(out.begin(), out.end(), c) != out.end()) {
            throw Error(ErrorCode::invalid_argument,
                        "--conditions: '" + name + "' is given twice (each condition runs once)");
        }
        out.push_back(c);
    }
    if (out.empty()) throw Error(ErrorCode::invalid_argument, "--conditions is empty");
    return out;
}

// A control without outputs answers questions only: with --no-questions it would do nothing.
void check_controls(const std::vector<Condition>& conditions, bool questions) {
    for (Condition c : conditions) {
        if (is_control(c) && !questions) {
            throw Error(ErrorCode::invalid_argument,
                        "--conditions: " + std::string(to_string(c)) +
                            " only asks the questions; it cannot run with --no-questions");
        }
    }
}

int run_experiment(const RunArgs& args) {
    validate(args.sampling);
    const std::vector<Condition> conditions = parse_conditions(args.conditions);
    check_controls(conditions, !args.no_questions);
    if (args.resume && args.out.empty()) {
        throw Error(ErrorCode::invalid_argument, "--resume needs --out DIR of the run to resume");
    }
    if (!args.backend.empty() && args.naive) {
        throw Error(ErrorCode::invalid_argument,
                    "--naive is an in-process execution; it cannot be combined with --backend");
    }
    if (!args.backend.empty() && !args.draft.path.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    "--draft decodes in-process; it cannot be combined with --backend");
    }
    if (args.backend.empty() && !args.api_key_file.empty()) {
        throw Error(ErrorCode::invalid_argument, "--api-key-file needs --backend URL");
    }

    // Dataset: every problem is reported; invalid examples are skipped and make the run fail.
    int n_invalid = 0;
    std::vector<Example> examples = load_examples(args.data, &n_invalid);
    if (args.per_domain > 0) {
        // The first N examples (in file order) of each domain: a representative subset.
        std::map<std::string, int32_t> taken;
        std::vector<Example> subset;
        for (Example& e : examples) {
            if (taken[e.domain]++ < args.per_domain) subset.push_back(std::move(e));
        }
        examples = std::move(subset);
    }
    if (args.limit > 0 && examples.size() > static_cast<size_t>(args.limit)) {
        examples.resize(static_cast<size_t>(args.limit));
    }

    const auto model = load_model(args.model, args.n_gpu_layers);
    ExperimentOptions opt;
    opt.out = args.out.empty() ? std::filesystem::path("results") / timestamp_dir()
                               : std::filesystem::path(args.out);
    opt.resume = args.resume;
    {
        std::optional<bool> chosen;
        if (args.together) chosen = true;
        if (args.separate_conditions) chosen = false;
        std::string why;
        opt.together = together_by_default(model->info().layer_device, chosen, &why);
        std::cerr << "rdic: " << why << "\n";
    }
    opt.conditions = conditions;
    ConfigRecord& cfg = opt.config;
    cfg.model = model_identity(*model);
    cfg.versions = current_versions();
    RunConfig& config = cfg.config;
    for (Condition c : conditions) config.conditions.emplace_back(to_string(c));
    config.max_tokens = args.max_tokens;
    config.sampling = sampling_config(args.sampling);
    config.system_prompt = args.system_prompt;
    config.seed_compat = args.seed_compat;
    config.question_wording = args.question_wording;
    config.questions = !args.no_questions;
    config.answer_tokens = args.answer_tokens;
    config.naive = args.naive;
    config.kv_layout = args.kv_layout;
    config.clusters = args.clusters.method;
    config.cluster_parameters = cluster_parameters(args.clusters);
    for (const auto& e : examples) cfg.data.push_back(data_file_for(opt.out, e.file));
    opt.exec.sampling = args.sampling;
    opt.exec.max_tokens = args.max_tokens;
    opt.exec.answer_max_tokens = args.answer_tokens;
    opt.exec.naive = args.naive;
    opt.exec.system_prompt = args.system_prompt;
    opt.exec.n_threads = args.n_threads;
    opt.exec.kv_layout = parse_kv_layout(args.kv_layout);  // checked by the option already
    opt.exec.draft = load_draft(args.draft, *model, args.n_gpu_layers);
    opt.exec.n_draft_max = args.draft.n_max;
    opt.exec.draft_p_min = args.draft.p_min;
    if (opt.exec.draft) {
        config.draft = opt.exec.draft->info().path.filename().string();
        config.draft_max = args.draft.n_max;
    }
    if (!args.backend.empty()) {
        OpenAiBackendOptions bo;
        bo.url = args.backend;
        if (!args.api_key_file.empty()) bo.api_key = read_api_key_file(args.api_key_file);
        bo.served_model = args.backend_model;
        bo.concurrency = args.backend_concurrency;
        bo.timeout_s = args.backend_timeout_s;
        bo.retry.max_attempts = args.backend_retries + 1;
        bo.prompt_as_text = args.backend_prompt == "text";
        bo.send_cache_salt = !args.no_cache_salt;
        opt.backend = make_openai_backend(model, opt.exec, bo);  // checks that the engine answers
    }
    config.backend = opt.backend ? opt.backend->identity() : "in-process";
    opt.prompts = {.seed_compat = args.seed_compat,
                   .questions = !args.no_questions,
                   .allow_unknown = args.question_wording == "value-or-unknown"};
    const std::filesystem::path out = opt.out;

    // The clusterings are computed once the directory is known to be ours (the lock is taken
    // first), before anything runs; --clusters labels (the default) costs nothing.
    std::map<std::string, ClusteringRecord> clusterings;
    Experiment experiment(model, examples, clusterings, std::move(opt));
    clusterings =
        apply_clustering(args.clusters, model, args.n_gpu_layers, args.n_threads, examples);
    if (args.resume) {
        std::cerr << "rdic: resuming " << printable_path(out) << ": " << experiment.n_already()
                  << " pairs already done"
                  << (experiment.torn_tail_dropped()
                          ? ", a torn last line (a killed write) is dropped"
                          : "")
                  << "\n";
    }
    std::cerr << "rdic: " << examples.size() << " examples x " << conditions.size()
              << " conditions with " << model->info().name << " -> "
              << printable_path(experiment.results_file()) << "\n";
    Progress progress(experiment.n_pairs(), experiment.n_already());
    g_interrupted = 0;
    std::signal(SIGINT, on_sigint);
    const ExperimentOutcome outcome = experiment.run(
        {.on_start = [&](const std::string& what) { progress.start(what); },
         .on_note = [](const std::string& line) { std::cerr << "\nrdic: " << line << "\n"; },
         .on_finish =
             [&](const ResultRecord& r) {
                 progress.finish_one();
                 if (!r.ok) {
                     std::cerr << "\nrdic: " << r.example_id << " / " << r.condition
                               << " failed: " << r.error << "\n";
                 }
             },
         .stop = [] { return g_interrupted != 0; }});
    std::signal(SIGINT, SIG_DFL);
    progress.end();
    std::cout << outcome.summary;
    std::cout << "results: " << printable_path(experiment.results_file()) << "\n";
    if (outcome.stopped) {
        std::cerr << "rdic: interrupted: " << outcome.n_written
                  << " pairs recorded by this invocation are kept in " << printable_path(out)
                  << "; continue with the same arguments and `--resume --out "
                  << printable_path(out) << "`\n";
        return 130;
    }
    if (!args.no_eval) {
        // Evaluation failures must not lose the generated results: report and exit non-zero.
        try {
            EvalOptions eo = args.eval;
            eo.judge = !args.no_judge;
            eo.embeddings = !args.no_embed;
            eo.n_gpu_layers = args.n_gpu_layers;
            eo.n_threads = args.n_threads;
            const Report report = evaluate_and_summarise(out.string(), eo);
            write_file_atomic(out / "report.md", render(report, "md"));
            write_file_atomic(out / "report.html", render(report, "html"));
            std::cout << "report: " << printable_path(out / "report.md") << ", "
                      << printable_path(out / "report.html") << "\n";
        } catch (const std::exception& e) {
            std::cerr << "rdic: evaluation failed (results are kept in " << printable_path(out)
                      << "; retry with `rdic eval --results " << printable_path(out)
                      << "`): " << e.what() << "\n";
            return 1;
        }
    }
    if (outcome.n_failed > 0 || n_invalid > 0) {
        std::cerr << "rdic: " << outcome.n_failed << " pairs failed, " << n_invalid
                  << " dataset files invalid\n";
        return 1;
    }
    return 0;
}

}  // namespace

Action add_run(CLI::App& app) {
    auto args = std::make_shared<RunArgs>();
    app.add_option("--model", args->model, "GGUF file (default: the cached default model)");
    app.add_option("--data", args->data, "Dataset files or directories (default: data/test)");
    app.add_option("--out", args->out, "Output directory (default: results/<timestamp>)");
    app.add_option("--conditions", args->conditions,
                   "Comma-separated: sequential,prompted,turn_based,semantic,separate_contexts "
                   "(the default), and the opt-in control no_conversation (every question with "
                   "no conversation: what guessing scores)");
    app.add_option("--max-tokens,-n", args->max_tokens, "Tokens per output")
        ->check(CLI::Range(1, 1 << 16));
    add_sampling_options(app, args->sampling);  // output i uses seed + i
    app.add_flag("--resume", args->resume,
                 "Continue the run in --out: skip pairs recorded without error, retry failed "
                 "ones; refused when model, settings or data differ from its config.json");
    app.add_flag("--naive", args->naive,
                 "The proof of concept's execution: every output prefilled from scratch, serially");
    auto* separate = app.add_flag(
        "--separate-conditions", args->separate_conditions,
        "Run each condition of an example alone (the default where the weights are on the CPU: "
        "per-condition KV and times; docs/experiment.md)");
    app.add_flag("--together", args->together,
                 "Run the batched conditions of an example together in one session where they "
                 "fit (the default where every layer is on a GPU: same outputs up to batch-shape "
                 "rounding, fewer decode steps; KV and times are then the shared session's)")
        ->excludes(separate);
    app.add_option("--question-wording", args->question_wording,
                   "value-only (default: \"Answer with the value only\") or value-or-unknown "
                   "(also offers \"unknown\"); chosen on the dev split (docs/evaluation.md)")
        ->check(CLI::IsMember({"value-or-unknown", "value-only"}));
    app.add_flag("--seed-compat", args->seed_compat,
                 "The proof of concept's prompts: 'Generate output A' requests that do not name "
                 "the topic, and baseline syntheses without the topic outputs");
    app.add_flag("--no-questions", args->no_questions,
                 "Do not ask the examples' fact questions (dataset v2)");
    app.add_option("--answer-tokens", args->answer_tokens, "Tokens per question's reply")
        ->check(CLI::Range(1, 1 << 12))
        ->capture_default_str();
    app.add_option("--per-domain", args->per_domain,
                   "Use only the first N examples of each domain (the main job uses 1)")
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--system", args->system_prompt, "System prompt shared by every sequence");
    add_kv_layout_option(app, args->kv_layout);
    add_draft_options(app, args->draft);
    app.add_option("--n-gpu-layers", args->n_gpu_layers, "Layers to offload (-1 = all)");
    add_threads_option(app, args->n_threads);
    app.add_option("--limit", args->limit, "Use only the first N examples (N >= 1)")
        ->check(CLI::Range(1, 1 << 30));
    app.add_flag("--no-eval", args->no_eval,
                 "Do not evaluate and report at the end (`rdic eval` and `rdic report` can later)");
    app.add_flag("--no-judge", args->no_judge, "Evaluate without the LLM judge");
    app.add_flag("--no-embed", args->no_embed, "Evaluate without embedding similarity");
    app.add_option("--judge", args->eval.judge_model, "Judge GGUF (default: the run's model)");
    app.add_option("--embed", args->eval.embed_model, "Embedding GGUF (default: the run's model)");
    add_cluster_options(app, args->clusters, "--clusters");
    app.add_option(
        "--backend", args->backend,
        "Run the plans on an OpenAI-compatible engine at this base URL (http://HOST:PORT "
        "or .../v1; llama-server, vLLM, SGLang) instead of in-process; --model still "
        "gives the tokenizer and chat template (docs/backends.md)");
    app.add_option("--api-key-file", args->api_key_file,
                   "File holding the engine's API key (sent as a bearer token; never recorded)");
    app.add_option("--backend-model", args->backend_model,
                   "The engine's name for the model (default: the --model file name)");
    app.add_option("--backend-concurrency", args->backend_concurrency, "Requests in flight at most")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--backend-timeout", args->backend_timeout_s,
                   "Seconds one request may take (connect, send, whole reply)")
        ->check(CLI::Range(0.001, 86400.0))
        ->capture_default_str();
    app.add_option("--backend-retries", args->backend_retries,
                   "Retries of a request after a connection error, timeout, HTTP 408, 429 or 5xx "
                   "(exponential backoff from 0.5 s, at most 8 s)")
        ->check(CLI::Range(0, 99))
        ->capture_default_str();
    app.add_option("--backend-prompt", args->backend_prompt,
                   "Send the prompt as token ids (default: the in-process tokens exactly) or as "
                   "the rendered text")
        ->check(CLI::IsMember({"tokens", "text"}))
        ->capture_default_str();
    app.add_flag("--no-cache-salt", args->no_cache_salt,
                 "Do not send a per-(example, condition, context) cache_salt");
    return [args] { return run_experiment(*args); };
}

}  // namespace rdic::cli
