// `rdic run`: the isolation experiment. Every example of the dataset under every condition, one
// results.jsonl record per pair (appended and flushed as it finishes), a progress bar with ETA on
// stderr, and a summary table per condition at the end.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "cluster_options.h"
#include "commands.h"
#include "rdic/build_info.h"
#include "rdic/datasets/example.h"
#include "rdic/isolation/executor.h"
#include "rdic/reporting/evaluate.h"
#include "rdic/reporting/report.h"
#include "rdic/reporting/results.h"
#include "rdic/sha256.h"

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
    std::string question_wording = "value-only";
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

struct Tally {
    int ok = 0, failed = 0;
    double kv_cells = 0, kv_bytes = 0, alloc_bytes = 0, separate_bytes = 0, total_ms = 0;
};

void print_summary(const std::map<std::string, Tally>& tally, const std::vector<Condition>& order,
                   std::ostream& os) {
    char line[256];
    std::snprintf(line, sizeof line, "%-18s %5s %6s %10s %9s %10s %12s %9s %9s\n", "condition",
                  "pairs", "failed", "KV tokens", "KV MiB", "alloc MiB", "multi-inst MiB", "time s",
                  "total s");
    os << line;
    for (Condition c : order) {
        const auto it = tally.find(std::string(to_string(c)));
        if (it == tally.end()) continue;
        const Tally& t = it->second;
        const double n = t.ok > 0 ? t.ok : 1;
        std::snprintf(line, sizeof line, "%-18s %5d %6d %10.0f %9.2f %10.2f %12.1f %9.2f %9.1f\n",
                      std::string(to_string(c)).c_str(), t.ok + t.failed, t.failed, t.kv_cells / n,
                      t.kv_bytes / n / 1048576.0, t.alloc_bytes / n / 1048576.0,
                      t.separate_bytes / n / 1048576.0, t.total_ms / n / 1000.0,
                      t.total_ms / 1000.0);
        os << line;
    }
}

int run_experiment(const RunArgs& args) {
    validate(args.sampling);
    std::vector<Condition> conditions;
    {
        std::stringstream ss(args.conditions);
        std::string name;
        while (std::getline(ss, name, ',')) {
            if (!name.empty()) conditions.push_back(parse_condition(name));
        }
        if (conditions.empty()) throw Error(ErrorCode::invalid_argument, "--conditions is empty");
    }
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
    ModelIdentity identity;
    identity.file = model->info().path.filename().string();
    identity.path = std::filesystem::absolute(model->info().path).string();
    identity.bytes = model->info().file_bytes;
    identity.sha256_prefix = sha256_file_hex(model->info().path).substr(0, 16);
    identity.architecture = model->info().architecture;
    identity.name = model->info().name;

    RunConfig config;
    for (Condition c : conditions) config.conditions.emplace_back(to_string(c));
    config.max_tokens = args.max_tokens;
    config.sampling = args.sampling;
    config.system_prompt = args.system_prompt;
    config.seed_compat = args.seed_compat;
    config.question_wording = args.question_wording;
    config.questions = !args.no_questions;
    config.answer_tokens = args.answer_tokens;
    config.naive = args.naive;
    config.kv_layout = args.kv_layout;
    // Re-cluster the examples (--clusters; the labels by default) before anything runs.
    config.clusters = args.clusters.method;
    config.cluster_parameters = cluster_parameters(args.clusters);
    const auto clusterings =
        apply_clustering(args.clusters, model, args.n_gpu_layers, args.n_threads, examples);

    const std::filesystem::path out = args.out.empty()
                                          ? std::filesystem::path("results") / timestamp_dir()
                                          : std::filesystem::path(args.out);
    std::filesystem::create_directories(out);
    const auto results_file = out / "results.jsonl";
    std::set<std::pair<std::string, std::string>> done;
    if (args.resume) {
        int skipped = 0;
        done = finished_pairs(results_file, &skipped);
        std::cerr << "rdic: resuming " << out.string() << ": " << done.size()
                  << " pairs already done"
                  << (skipped ? ", " + std::to_string(skipped) + " unreadable lines skipped" : "")
                  << "\n";
    }
    std::vector<std::string> file_names;
    for (const auto& e : examples) file_names.push_back(e.file.string());
    if (!args.resume || !std::filesystem::exists(out / "config.json")) {
        write_text_file(out / "config.json", config_json(config, identity, file_names));
    }
    ResultsWriter writer(results_file);

    ExecutorOptions exec;
    exec.sampling = args.sampling;
    exec.max_tokens = args.max_tokens;
    exec.answer_max_tokens = args.answer_tokens;
    exec.naive = args.naive;
    exec.system_prompt = args.system_prompt;
    exec.n_threads = args.n_threads;
    exec.kv_layout = parse_kv_layout(args.kv_layout);  // checked by the option already
    const PromptOptions prompts{.seed_compat = args.seed_compat,
                                .questions = !args.no_questions,
                                .allow_unknown = args.question_wording == "value-or-unknown"};

    size_t already = 0;
    for (const auto& e : examples) {
        for (Condition c : conditions) already += done.count({e.id, std::string(to_string(c))});
    }
    std::cerr << "rdic: " << examples.size() << " examples x " << conditions.size()
              << " conditions with " << identity.name << " -> " << results_file.string() << "\n";
    Progress progress(examples.size() * conditions.size(), already);
    std::map<std::string, Tally> tally;
    int n_failed = 0;
    for (const Example& ex : examples) {
        for (Condition c : conditions) {
            const std::string cname(to_string(c));
            if (done.count({ex.id, cname})) continue;
            progress.start(cname + " " + ex.id);
            RunRecord rec;
            rec.example_id = ex.id;
            rec.file = ex.file.string();
            rec.domain = ex.domain;
            rec.split = ex.split;
            rec.condition = c;
            rec.model = identity;
            rec.config = config;
            rec.clustering = clusterings.at(ex.id);
            try {
                rec.result = run_condition(model, ex, make_plan(ex, c, prompts), exec);
            } catch (const std::exception& e) {
                rec.error = e.what();
            }
            rec.finished_at = iso8601_utc_now();
            writer.append(rec);
            progress.finish_one();
            Tally& t = tally[cname];
            if (rec.result) {
                ++t.ok;
                t.kv_cells += static_cast<double>(rec.result->kv_peak.cells_full);
                t.kv_bytes += static_cast<double>(rec.result->kv_peak.bytes);
                t.alloc_bytes += static_cast<double>(rec.result->kv_allocated_bytes);
                t.separate_bytes += static_cast<double>(rec.result->separate_instances_bytes());
                t.total_ms += rec.result->total_ms;
            } else {
                ++t.failed;
                ++n_failed;
                std::cerr << "\nrdic: " << ex.id << " / " << cname << " failed: " << rec.error
                          << "\n";
            }
        }
    }
    progress.end();
    std::ostringstream summary;
    summary << "model " << identity.name << " (" << identity.file << "), max_tokens "
            << args.max_tokens << (args.naive ? ", naive execution" : ", batched execution")
            << "\n";
    print_summary(tally, conditions, summary);
    std::cout << summary.str();
    write_text_file(out / "summary.txt", summary.str());
    std::cout << "results: " << results_file.string() << "\n";
    if (!args.no_eval) {
        // Evaluation failures must not lose the generated results: report and exit non-zero.
        try {
            EvalOptions eo = args.eval;
            eo.judge = !args.no_judge;
            eo.embeddings = !args.no_embed;
            eo.n_gpu_layers = args.n_gpu_layers;
            eo.n_threads = args.n_threads;
            const Report report = evaluate_and_summarise(out.string(), eo);
            write_text_file(out / "report.md", render(report, "md"));
            write_text_file(out / "report.html", render(report, "html"));
            std::cout << "report: " << (out / "report.md").string() << ", "
                      << (out / "report.html").string() << "\n";
        } catch (const std::exception& e) {
            std::cerr << "rdic: evaluation failed (results are kept in " << out.string()
                      << "; retry with `rdic eval --results " << out.string() << "`): " << e.what()
                      << "\n";
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
    app.add_flag("--resume", args->resume, "Skip pairs already recorded in --out");
    app.add_flag("--naive", args->naive,
                 "The proof of concept's execution: every output prefilled from scratch, serially");
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
    app.add_option("--n-gpu-layers", args->n_gpu_layers, "Layers to offload (-1 = all)");
    app.add_option("--threads", args->n_threads, "CPU threads (0 = all)");
    app.add_option("--limit", args->limit, "Use only the first N examples");
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
