// `rdic run` as a library: every example under every condition into one results directory, one
// results.jsonl record per pair, appended as each finishes.
//
//   rdic::Experiment e(model, examples, clusterings, {.out = "results/x", .config = cfg, ...});
//   rdic::ExperimentOutcome o = e.run({.on_start = ..., .stop = [] { return interrupted; }});
//   std::cout << o.summary;
//
// Construction opens the directory for writing: creates it, takes its ResultsDirLock (held until
// the object is destroyed, so an evaluation that follows is covered too), refuses a directory
// that already holds results unless `resume`, and with `resume` refuses a config.json that
// describes another run (resume_differences, every difference named). Then writes config.json
// (atomically) when there is none. Every pair is checked against the model's and the engine's
// limits before it decodes (check_limits); a pair that fails is recorded with its error and the
// run goes on. The pairs run on options.backend (rdic/isolation/backend.h: in-process, or a
// remote engine), which returns the same ConditionResult either way. With `together` (the
// default) the example's pairs still to run, but separate_contexts and pairs that fail their
// limits, go to Backend::run_together as one call (in-process: one session per KV layout where
// it fits, else one by one, said through on_note); their records are written when the call
// returns (in condition order, before the example's pairs that run alone), and a failure of the
// call is recorded for each of its pairs. After
// the pairs (all, or up to a stop request), summary.txt is rebuilt from every record of the
// directory and replaced atomically. Any failed write throws rdic::Error naming the file and the
// operating system's reason. Thread-safety: one thread; `stop` may read a flag set by a signal
// handler.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rdic/datasets/example.h"
#include "rdic/engine/model.h"
#include "rdic/isolation/backend.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/plan.h"
#include "rdic/records/files.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"

namespace rdic {

struct ExperimentOptions {
    std::filesystem::path out;  // results directory
    bool resume = false;        // continue the run in `out` (skip pairs that succeeded)
    std::vector<Condition> conditions;
    ExecutorOptions exec;
    PromptOptions prompts;
    // Where the plans run; null = in-process with `exec` (batched, or naive). config.config
    // .backend must name it (Backend::identity), so that --resume refuses another backend.
    std::shared_ptr<Backend> backend;
    // Run the batched conditions of an example together (Backend::run_together); false: each
    // pair alone (`rdic run --separate-conditions`). The constructor sets config.config.together
    // to this and the backend's runs_together(), and config.config.device to the backend's
    // device(), before it compares configs for --resume.
    bool together = true;
    ConfigRecord config;  // what config.json records; its data = the examples' files, in order
};

struct ExperimentCallbacks {
    std::function<void(const std::string& what)> on_start;      // "semantic fin-01", "a,b fin-01"
    std::function<void(const std::string& line)> on_note;       // pairs not run together, and why
    std::function<void(const ResultRecord& record)> on_finish;  // after it is written
    std::function<bool()> stop;  // checked before each pair or group: true ends the run early
};

struct ExperimentOutcome {
    size_t n_written = 0;  // pairs recorded by this call
    size_t n_failed = 0;   // of them, failures
    bool stopped = false;  // `stop` ended the run before every pair was done
    std::string summary;   // summary.txt as written
};

class Experiment {
public:
    // `examples` and `clusterings` (example id -> the clustering it runs with) must outlive the
    // object. Throws as described above; nothing is decoded here.
    Experiment(std::shared_ptr<const Model> model, const std::vector<Example>& examples,
               const std::map<std::string, ClusteringRecord>& clusterings,
               ExperimentOptions options);

    size_t n_pairs() const;    // examples x conditions
    size_t n_already() const;  // of them, already recorded as successes (resume)
    bool torn_tail_dropped() const { return torn_tail_; }  // a killed write's partial line
    const std::filesystem::path& results_file() const { return results_file_; }

    ExperimentOutcome run(const ExperimentCallbacks& callbacks);

private:
    std::shared_ptr<const Model> model_;
    const std::vector<Example>& examples_;
    const std::map<std::string, ClusteringRecord>& clusterings_;
    ExperimentOptions options_;
    std::filesystem::path results_file_;
    std::optional<ResultsDirLock> lock_;
    // One record per result (or per pair with `error`), written and counted.
    void write(JsonlAppender& writer, size_t i_example, Condition c, const ConditionResult* result,
               const std::string& error, ExperimentOutcome& outcome,
               const ExperimentCallbacks& callbacks);

    std::set<std::pair<std::string, std::string>> done_;  // (example, condition) succeeded
    bool torn_tail_ = false;
};

}  // namespace rdic
