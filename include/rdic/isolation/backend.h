// The execution seam under the experiment: where one condition's plan for one example runs.
//
//   std::unique_ptr<rdic::Backend> b = rdic::make_in_process_backend(model, exec_options);
//   rdic::ConditionResult r = b->run(example, make_plan(example, Condition::semantic));
//
// Implementations: in-process batched (run_condition, rdic/isolation/executor.h), in-process
// naive (the same with options.naive), and `openai` (rdic/isolation/openai_backend.h: any
// OpenAI-compatible engine over HTTP). All return the same ConditionResult from the same plan
// and the same prompt tokens (PromptBuilder); what an engine cannot measure stays unset
// (ConditionResult::kv_measured, OutputResult::n_cached_tokens), never 0.
// run_together(example, plans) runs several conditions of one example: the in-process batched
// backend in one Session (run_conditions_together) for each group of plans with the same KV
// layout that fits (check_together), one by one otherwise; naive and remote backends one by one
// (the default). Every result says whom it ran with (ConditionResult::together_with).
// Failure: run() throws rdic::Error (context_overflow before anything is sent or decoded;
// upstream_failure after a remote engine's last retry); the experiment records it for the pair.
// run_together() throws what run() or run_conditions_together() throw; nothing is returned then.
// Thread-safety: one run() or run_together() at a time per object.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rdic/engine/model.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/plan.h"

namespace rdic {

class Backend {
public:
    virtual ~Backend() = default;
    // What config.json records as "backend": "in-process", or the remote base URL (no secrets).
    virtual std::string identity() const = 0;
    // What config.json records as "device": where the model runs (ModelInfo::device in-process,
    // "remote" for an engine rdic cannot see into).
    virtual std::string device() const = 0;
    virtual ConditionResult run(const Example& example, const Plan& plan) = 0;
    // Whether run_together() can execute several plans in one session (false: it runs them one
    // by one). config.json records it as "together".
    virtual bool runs_together() const { return false; }
    // `plans` of one example (none separate_contexts or a control, each passing check_limits),
    // results in their order. `note` (may be empty) hears one line per group that could have run
    // together but runs one by one, and why. Default: run() for each plan.
    virtual std::vector<ConditionResult> run_together(
        const Example& example, std::span<const Plan> plans,
        const std::function<void(const std::string&)>& note);
};

// run_condition on `model` with `options` (batched, or naive when options.naive).
std::unique_ptr<Backend> make_in_process_backend(std::shared_ptr<const Model> model,
                                                 ExecutorOptions options);

}  // namespace rdic
