// `rdic run`: the isolation experiment. Every example of the dataset under every condition, one
// results.jsonl record per pair (appended and flushed as it finishes), a progress bar with ETA on
// stderr, and a summary table per condition at the end.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "cluster_options.h"
#include "commands.h"
#include "rdic/build_info.h"
#include "rdic/clock.h"
#include "rdic/datasets/example.h"
#include "rdic/isolation/executor.h"
#include "rdic/records/files.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "rdic/reporting/evaluate.h"
#include "rdic/reporting/report.h"
#include "rdic/reporting/results.h"
#include "rdic/reporting/run_summary.h"

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
    bool seed_compat = false;
    bool no_questions = false;
    int32_t per_domain = 0;
    int32_t answer_tokens = kAnswerMaxTokens;
    std::string kv_layout = "auto";
    std::string system_prompt = "You are a helpful assistant.";
    int32_t n_gpu_layers = -1;
    int32_t n_threads = 0;
    int32_t limit = 0;
    bool no_eval = false;
    EvalOptions eval;
    bool no_judge = false;
    bool no_embed = false;
    ClusterArgs clusters;
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

// --resume: the directory's config.json must describe this invocation; refuses naming every
// difference. Without --resume, a directory that already holds results is refused.
void check_directory(const std::filesystem::path& out, bool resume, const ConfigRecord& mine) {
    const auto results = out / "results.jsonl";
    const bool has_results =
        std::filesystem::exists(results) && !read_results(results).records.empty();
    if (!resume) {
        if (has_results) {
            throw Error(ErrorCode::invalid_argument,
                        printable_path(out) +
                            " already holds results; pass --resume to continue "
                            "that run, or choose another --out");
        }
        return;
    }
    if (!std::filesystem::exists(out / "config.json")) return;
    const std::vector<std::string> diff =
        resume_differences(read_config(out / "config.json"), mine);
    if (!diff.empty()) {
        std::string list;
        for (const std::string& d : diff) list += (list.empty() ? "" : "; ") + d;
        throw Error(ErrorCode::invalid_argument,
                    "--resume: " + printable_path(out / "config.json") +
                        " describes another run (recorded vs now): " + list);
    }
}

int run_experiment(const RunArgs& args) {
    validate(args.sampling);
    const std::vector<Condition> conditions = parse_conditions(args.conditions);
    if (args.resume && args.out.empty()) {
        throw Error(ErrorCode::invalid_argument, "--resume needs --out DIR of the run to resume");
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
    const std::filesystem::path out = args.out.empty()
                                          ? std::filesystem::path("results") / timestamp_dir()
                                          : std::filesystem::path(args.out);
    ConfigRecord cfg;
    cfg.model = model_identity(*model);
    cfg.versions = current_versions();
    RunConfig& config = cfg.config;
    for (Condition c : conditions) config.conditions.emplace_back(to_string(c));
    config.max_tokens = args.max_tokens;
    config.sampling = sampling_config(args.sampling);
    config.system_prompt = args.system_prompt;
    config.seed_compat = args.seed_compat;
    config.questions = !args.no_questions;
    config.answer_tokens = args.answer_tokens;
    config.naive = args.naive;
    config.kv_layout = args.kv_layout;
    config.clusters = args.clusters.method;
    config.cluster_parameters = cluster_parameters(args.clusters);
    for (const auto& e : examples) cfg.data.push_back(data_file_for(out, e.file));

    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec)
        throw Error(ErrorCode::file_not_found, os_error_message(out, "cannot create", ec.value()));
    const ResultsDirLock lock(out, "run");
    check_directory(out, args.resume, cfg);

    // Re-cluster the examples (--clusters; the labels by default) before anything runs.
    const auto clusterings =
        apply_clustering(args.clusters, model, args.n_gpu_layers, args.n_threads, examples);

    const auto results_file = out / "results.jsonl";
    std::set<std::pair<std::string, std::string>> done;
    if (args.resume && std::filesystem::exists(results_file)) {
        const ResultsLog log = read_results(results_file);
        for (const ResultRecord* r : current_records(log)) {
            if (r->ok && r->naive == args.naive) done.emplace(r->example_id, r->condition);
        }
        std::cerr << "rdic: resuming " << printable_path(out) << ": " << done.size()
                  << " pairs already done"
                  << (log.torn_tail ? ", a torn last line (a killed write) is dropped" : "")
                  << "\n";
    }
    if (!std::filesystem::exists(out / "config.json")) {
        write_file_atomic(out / "config.json", config_to_text(cfg));
    }
    JsonlAppender writer(results_file);

    ExecutorOptions exec;
    exec.sampling = args.sampling;
    exec.max_tokens = args.max_tokens;
    exec.answer_max_tokens = args.answer_tokens;
    exec.naive = args.naive;
    exec.system_prompt = args.system_prompt;
    exec.n_threads = args.n_threads;
    exec.kv_layout = parse_kv_layout(args.kv_layout);  // checked by the option already
    const PromptOptions prompts{.seed_compat = args.seed_compat, .questions = !args.no_questions};

    size_t already = 0;
    for (const auto& e : examples) {
        for (Condition c : conditions) already += done.count({e.id, std::string(to_string(c))});
    }
    std::cerr << "rdic: " << examples.size() << " examples x " << conditions.size()
              << " conditions with " << cfg.model.name << " -> " << printable_path(results_file)
              << "\n";
    Progress progress(examples.size() * conditions.size(), already);
    g_interrupted = 0;
    std::signal(SIGINT, on_sigint);
    int n_failed = 0, n_written = 0;
    for (size_t i = 0; i < examples.size() && !g_interrupted; ++i) {
        const Example& ex = examples[i];
        for (Condition c : conditions) {
            if (g_interrupted) break;
            const std::string cname(to_string(c));
            if (done.count({ex.id, cname})) continue;
            progress.start(cname + " " + ex.id);
            ResultRecord rec;
            try {
                rec = make_result_record(run_condition(model, ex, make_plan(ex, c, prompts), exec));
            } catch (const std::exception& e) {
                rec = ResultRecord{};
                rec.error = e.what();
            }
            rec.example_id = ex.id;
            rec.file = cfg.data[i];
            rec.domain = ex.domain;
            rec.split = ex.split;
            rec.condition = cname;
            rec.naive = args.naive;
            rec.model = cfg.model;
            rec.config = config;
            rec.versions = cfg.versions;
            rec.clustering = clusterings.at(ex.id);
            rec.finished_at = iso8601_utc_now();
            writer.append(result_to_line(rec));
            ++n_written;
            progress.finish_one();
            if (!rec.ok) {
                ++n_failed;
                std::cerr << "\nrdic: " << ex.id << " / " << cname << " failed: " << rec.error
                          << "\n";
            }
        }
    }
    std::signal(SIGINT, SIG_DFL);
    progress.end();
    // The summary covers every record of the directory, not only this invocation's.
    const std::string summary = run_summary(read_results(results_file), config.conditions);
    std::cout << summary;
    write_file_atomic(out / "summary.txt", summary);
    std::cout << "results: " << printable_path(results_file) << "\n";
    if (g_interrupted) {
        std::cerr << "rdic: interrupted: " << n_written << " pairs recorded by this invocation are "
                  << "kept in " << printable_path(out) << "; continue with the same arguments and "
                  << "`--resume --out " << printable_path(out) << "`\n";
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
    if (n_failed > 0 || n_invalid > 0) {
        std::cerr << "rdic: " << n_failed << " pairs failed, " << n_invalid
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
                   "Comma-separated: sequential,prompted,turn_based,semantic,separate_contexts");
    app.add_option("--max-tokens,-n", args->max_tokens, "Tokens per output")
        ->check(CLI::Range(1, 1 << 16));
    add_sampling_options(app, args->sampling);  // output i uses seed + i
    app.add_flag("--resume", args->resume,
                 "Continue the run in --out: skip pairs recorded without error, retry failed "
                 "ones; refused when model, settings or data differ from its config.json");
    app.add_flag("--naive", args->naive,
                 "The proof of concept's execution: every output prefilled from scratch, serially");
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
    return [args] { return run_experiment(*args); };
}

}  // namespace rdic::cli
