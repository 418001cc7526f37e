#include "rdic/isolation/executor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "executor_runner.h"
#include "rdic/error.h"

namespace rdic {

namespace executor_detail {

std::vector<GenerationResult> generate_with_draft(Session& s, std::span<GenerationRequest> reqs,
                                                  const ExecutorOptions& opt,
                                                  GenerateStats* stats) {
    if (!opt.draft) return generate(s, reqs, {}, stats);
    // Each draft sequence holds its request's history, prompt, output and one step's proposals.
    int64_t longest = 0;
    for (const GenerationRequest& r : reqs) {
        longest = std::max<int64_t>(longest, int64_t{r.seq->n_tokens()} +
                                                 static_cast<int64_t>(r.prompt.size()) +
                                                 r.max_tokens + opt.n_draft_max + 2);
    }
    const auto n_ctx_seq =
        static_cast<int32_t>(std::min<int64_t>(round_up(longest, 256), s.n_ctx_seq()));
    Session draft(opt.draft, draft_session_options(s, static_cast<int32_t>(reqs.size()),
                                                   std::max(n_ctx_seq, 256)));
    GenerateOptions go;
    go.draft = &draft;
    go.n_draft_max = opt.n_draft_max;
    go.draft_p_min = opt.draft_p_min;
    return generate(s, reqs, go, stats);
}

void order_outputs(const Plan& plan, ConditionResult& result) {
    std::vector<OutputResult> ordered;
    for (const OutputPlan& o : plan.outputs) {
        for (OutputResult& out : result.outputs) {
            if (out.cluster_id == o.cluster_id) ordered.push_back(std::move(out));
        }
    }
    result.outputs = std::move(ordered);
}

}  // namespace executor_detail

using namespace executor_detail;

std::string check_limits(const Model& model, const Example& ex, const Plan& plan,
                         const ExecutorOptions& opt) {
    const std::string file = ex.file.string();
    // Sequences of one batched session: the head, shared contexts and one per output at most.
    const auto n_outputs = static_cast<int64_t>(plan.outputs.size());
    if (n_outputs + 2 > kMaxSessionSequences) {
        return file + ": " + std::to_string(n_outputs) + " outputs (clusters) need " +
               std::to_string(n_outputs + 2) +
               " sequences in one session; the engine holds at most " +
               std::to_string(kMaxSessionSequences);
    }
    const int64_t n_ctx = model.info().n_ctx_train;
    if (n_ctx <= 0) return "";
    const PromptBuilder prompts(model, opt.system_prompt, opt.chat_template);
    const int64_t fixed = static_cast<int64_t>(prompts.head().size()) + opt.max_tokens + 64;
    const int64_t room = n_ctx - fixed;
    // A turn alone larger than the context: named by its id (tokens >= 1 byte each, so a turn
    // of fewer bytes than `room` fits and is not tokenized).
    for (const Turn& t : ex.turns) {
        if (static_cast<int64_t>(t.text.size()) <= room) continue;
        const auto n = static_cast<int64_t>(model.tokenize(t.text, false, false).size());
        if (n > room) {
            return file + ": turn " + std::to_string(t.id) + " (cluster " + t.cluster + ") is " +
                   std::to_string(n) + " tokens; the model's context is " + std::to_string(n_ctx) +
                   " tokens, " + std::to_string(fixed) +
                   " of them for the prompt head and --max-tokens";
        }
    }
    for (const OutputPlan& o : plan.outputs) {
        const int64_t messages = static_cast<int64_t>(o.message_inputs.size()) *
                                 (2 * static_cast<int64_t>(opt.max_tokens) + 64);
        const int64_t bytes = static_cast<int64_t>(o.context.size() + o.request.size()) + messages;
        if (bytes <= room) continue;
        const int64_t n =
            static_cast<int64_t>(prompts.context(o.context).size() + o.request.size()) + messages;
        if (n > room) {
            return file + ": the " + std::string(to_string(plan.condition)) +
                   " output for cluster " + o.cluster_id + " needs " + std::to_string(n + fixed) +
                   " tokens (context, request and --max-tokens); the model's context is " +
                   std::to_string(n_ctx) + " tokens";
        }
    }
    return "";
}

ConditionResult run_condition(const std::shared_ptr<const Model>& model, const Example& example,
                              const Plan& plan, const ExecutorOptions& options) {
    if (std::string why = check_limits(*model, example, plan, options); !why.empty()) {
        throw Error(ErrorCode::context_overflow, why);
    }
    const auto t0 = Clock::now();
    Runner r{model,
             example,
             plan,
             options,
             PromptBuilder(*model, options.system_prompt, options.chat_template),
             {},
             {},
             t0,
             t0};
    r.result.condition = plan.condition;
    r.result.naive = options.naive;
    r.result.weights_bytes = model->info().weight_bytes;
    if (is_control(plan.condition)) {
        // No outputs: no output KV to measure (recorded absent, not 0); only the answers' session.
        r.result.kv_measured = false;
    } else if (plan.condition == Condition::separate_contexts) {
        r.run_serial(/*own_session=*/true);
    } else if (options.naive) {
        r.run_serial(/*own_session=*/false);
    } else {
        run_batched_group({&r});
    }
    r.result.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    order_outputs(plan, r.result);
    r.answer_questions();
    return r.result;
}

}  // namespace rdic
