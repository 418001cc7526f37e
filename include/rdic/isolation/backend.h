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
// Failure: run() throws rdic::Error (context_overflow before anything is sent or decoded;
// upstream_failure after a remote engine's last retry); the experiment records it for the pair.
// Thread-safety: one run() at a time per object.
#pragma once

#include <memory>
#include <string>

#include "rdic/engine/model.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/plan.h"

namespace rdic {

class Backend {
public:
    virtual ~Backend() = default;
    // What config.json records as "backend": "in-process", or the remote base URL (no secrets).
    virtual std::string identity() const = 0;
    virtual ConditionResult run(const Example& example, const Plan& plan) = 0;
};

// run_condition on `model` with `options` (batched, or naive when options.naive).
std::unique_ptr<Backend> make_in_process_backend(std::shared_ptr<const Model> model,
                                                 ExecutorOptions options);

}  // namespace rdic
