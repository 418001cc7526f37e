#include "rdic/isolation/experiment.h"

#include <algorithm>
#include <optional>

#include "rdic/clock.h"
#include "rdic/error.h"
#include "rdic/reporting/results.h"
#include "rdic/reporting/run_summary.h"

namespace rdic {

namespace fs = std::filesystem;

Experiment::Experiment(std::shared_ptr<const Model> model, const std::vector<Example>& examples,
                       const std::map<std::string, ClusteringRecord>& clusterings,
                       ExperimentOptions options)
    : model_(std::move(model)),
      examples_(examples),
      clusterings_(clusterings),
      options_(std::move(options)),
      results_file_(options_.out / "results.jsonl") {
    if (options_.config.data.size() != examples_.size()) {
        throw Error(ErrorCode::invalid_argument, "experiment: one data file per example expected");
    }
    if (!options_.backend) options_.backend = make_in_process_backend(model_, options_.exec);
    options_.config.config.together = options_.together && options_.backend->runs_together();
    options_.config.config.device = options_.backend->device();
    if (options_.backend->identity() != options_.config.config.backend) {
        throw Error(ErrorCode::invalid_argument, "experiment: config.backend \"" +
                                                     options_.config.config.backend +
                                                     "\" does not name the backend in use (\"" +
                                                     options_.backend->identity() + "\")");
    }
    const fs::path& out = options_.out;
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec)
        throw Error(ErrorCode::file_not_found, os_error_message(out, "cannot create", ec.value()));
    lock_.emplace(out, "run");

    const bool has_results =
        fs::exists(results_file_) && !read_results(results_file_).records.empty();
    if (!options_.resume && has_results) {
        throw Error(ErrorCode::invalid_argument,
                    printable_path(out) +
                        " already holds results; pass --resume to continue that run, or choose "
                        "another --out");
    }
    if (options_.resume && fs::exists(out / "config.json")) {
        const auto diff = resume_differences(read_config(out / "config.json"), options_.config);
        if (!diff.empty()) {
            std::string list;
            for (const std::string& d : diff) list += (list.empty() ? "" : "; ") + d;
            throw Error(ErrorCode::invalid_argument,
                        "--resume: " + printable_path(out / "config.json") +
                            " describes another run (recorded vs now): " + list);
        }
    }
    if (options_.resume && fs::exists(results_file_)) {
        const ResultsLog log = read_results(results_file_);
        torn_tail_ = log.torn_tail;
        for (const ResultRecord* r : current_records(log)) {
            if (r->ok && r->naive == options_.config.config.naive) {
                done_.emplace(r->example_id, r->condition);
            }
        }
    }
    if (!fs::exists(out / "config.json")) {
        write_file_atomic(out / "config.json", config_to_text(options_.config));
    }
}

size_t Experiment::n_pairs() const {
    return examples_.size() * options_.conditions.size();
}

size_t Experiment::n_already() const {
    size_t n = 0;
    for (const Example& e : examples_) {
        for (Condition c : options_.conditions) n += done_.count({e.id, std::string(to_string(c))});
    }
    return n;
}

void Experiment::write(JsonlAppender& writer, size_t i_example, Condition c,
                       const ConditionResult* result, const std::string& error,
                       ExperimentOutcome& outcome, const ExperimentCallbacks& cb) {
    const ConfigRecord& cfg = options_.config;
    const Example& ex = examples_[i_example];
    ResultRecord rec;
    if (result != nullptr) {
        rec = make_result_record(*result);
    } else {
        rec.error = error;
    }
    rec.example_id = ex.id;
    rec.file = cfg.data[i_example];
    rec.domain = ex.domain;
    rec.split = ex.split;
    rec.condition = std::string(to_string(c));
    rec.naive = cfg.config.naive;
    rec.model = cfg.model;
    rec.config = cfg.config;
    rec.versions = cfg.versions;
    if (const auto it = clusterings_.find(ex.id); it != clusterings_.end()) {
        rec.clustering = it->second;
    }
    rec.finished_at = iso8601_utc_now();
    writer.append(result_to_line(rec));
    if (rec.ok) done_.emplace(ex.id, rec.condition);
    ++outcome.n_written;
    outcome.n_failed += rec.ok ? 0 : 1;
    if (cb.on_finish) cb.on_finish(rec);
}

ExperimentOutcome Experiment::run(const ExperimentCallbacks& cb) {
    ExperimentOutcome outcome;
    JsonlAppender writer(results_file_);
    const ConfigRecord& cfg = options_.config;
    auto stop = [&] { return cb.stop && cb.stop(); };
    auto run_alone = [&](size_t i, Condition c) {
        if (cb.on_start) cb.on_start(std::string(to_string(c)) + " " + examples_[i].id);
        try {
            const ConditionResult r =
                options_.backend->run(examples_[i], make_plan(examples_[i], c, options_.prompts));
            write(writer, i, c, &r, "", outcome, cb);
        } catch (const std::exception& e) {
            write(writer, i, c, nullptr, e.what(), outcome, cb);
        }
    };
    for (size_t i = 0; i < examples_.size() && !outcome.stopped; ++i) {
        const Example& ex = examples_[i];
        // The pairs still to run; with `together`, the batched ones that fit their limits go
        // to the backend as one group (in condition order), the others alone.
        std::vector<Plan> group;
        std::vector<Condition> alone;
        for (Condition c : options_.conditions) {
            if (done_.count({ex.id, std::string(to_string(c))})) continue;
            if (!cfg.config.together || !why_condition_runs_alone(c).empty()) {
                alone.push_back(c);
                continue;
            }
            Plan plan = make_plan(ex, c, options_.prompts);
            if (!check_limits(*model_, ex, plan, options_.exec).empty()) {
                alone.push_back(c);  // run() refuses it with the reason, recorded for the pair
                continue;
            }
            group.push_back(std::move(plan));
        }
        if (group.size() == 1) {
            alone.insert(alone.begin(), group.front().condition);
            group.clear();
        }
        if (!group.empty()) {
            if (stop()) {
                outcome.stopped = true;
                break;
            }
            if (cb.on_start) cb.on_start(condition_names(group) + " " + ex.id);
            std::vector<ConditionResult> results;
            std::optional<std::string> error;  // the group's failure, recorded for each pair
            try {
                results = options_.backend->run_together(ex, group, cb.on_note);
                if (results.size() != group.size()) {
                    error = "backend returned " + std::to_string(results.size()) + " results for " +
                            std::to_string(group.size()) + " conditions";
                }
            } catch (const std::exception& e) {
                error = e.what();
            }
            for (size_t k = 0; k < group.size(); ++k) {
                write(writer, i, group[k].condition, error ? nullptr : &results[k],
                      error.value_or(""), outcome, cb);
            }
        }
        // In condition order (a group's pairs are already recorded).
        std::sort(alone.begin(), alone.end(), [&](Condition a, Condition b) {
            const auto& cs = options_.conditions;
            return std::find(cs.begin(), cs.end(), a) < std::find(cs.begin(), cs.end(), b);
        });
        for (Condition c : alone) {
            if (stop()) {
                outcome.stopped = true;
                break;
            }
            run_alone(i, c);
        }
    }
    // The summary covers every record of the directory, not only this call's.
    outcome.summary = run_summary(read_results(results_file_), cfg.config.conditions);
    write_file_atomic(options_.out / "summary.txt", outcome.summary);
    return outcome;
}

}  // namespace rdic
