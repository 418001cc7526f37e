// Executes one condition's plan for one example on the engine, and measures it.
//
//   rdic::ConditionResult r = rdic::run_condition(model, example, plan, {.max_tokens = 128});
//
// Batched execution (default): the chat template's head (system prompt) is prefilled once and
// forked by every sequence; a context shared by several outputs is prefilled once and forked per
// output; all topic outputs are prefilled in one batch and decoded in lockstep; synthesis outputs
// receive their inputs' outputs as messages; sequences are freed as soon as nothing needs them.
// `naive` reproduces the proof of concept instead: each output prefilled from scratch, alone,
// one after another. Both feed the model exactly the same tokens.
// separate_contexts runs every cluster in its own Session (its own KV pool): what a multi-agent
// system of separate contexts pays.
// Thread-safety: call from one thread; the Model may be shared.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rdic/engine/generate.h"
#include "rdic/engine/model.h"
#include "rdic/isolation/plan.h"

namespace rdic {

// Sampling seeds of question replies start at seed + this (outputs use seed + output index).
inline constexpr uint32_t kAnswerSeedOffset = 1000;
// ExecutorOptions::together_max_kv_bytes by default: 4 GiB.
inline constexpr uint64_t kDefaultTogetherMaxKvBytes = uint64_t{4} << 30;

struct ExecutorOptions {
    SamplerOptions sampling;   // same for every output (seed offset by output index)
    int32_t max_tokens = 256;  // per output
    int32_t answer_max_tokens = kAnswerMaxTokens;  // per fact question's reply
    bool naive = false;  // the POC's execution: every output from scratch, serially
    std::string system_prompt = "You are a helpful assistant.";
    std::string chat_template;  // override the model's template ("" = model's / default)
    int32_t n_threads = 0;
    // Always generate max_tokens per output, end-of-generation tokens included (fixed-length
    // benchmarks: every condition decodes the same number of tokens).
    bool ignore_eog = false;
    KvType type_k = KvType::f16;  // KV-cache element types of every session the condition opens
    KvType type_v = KvType::f16;
    FlashAttn flash_attn = FlashAttn::automatic;
    // KV layout of batched sessions; unset = per_sequence when no context is shared by several
    // outputs (semantic: nothing but the template head is common), unified otherwise (a shared
    // context is then held once, not copied per output). See rdic/engine/session.h.
    std::optional<KvLayout> kv_layout;
    // Speculative decoding of every output and answer (GenerateOptions::draft): a draft model
    // with the model's vocabulary (check_same_vocabulary), in a Session of its own beside each
    // of the condition's sessions. Null = plain decoding.
    std::shared_ptr<const Model> draft;
    int32_t n_draft_max = 8;
    float draft_p_min = 0.0f;  // GenerateOptions::draft_p_min
    // check_together refuses a group of plans whose one session would hold more KV than this
    // (the conditions then run one by one): running together holds every condition's sequences
    // at once, where one by one holds one condition's.
    uint64_t together_max_kv_bytes = kDefaultTogetherMaxKvBytes;
};

struct OutputResult {
    std::string cluster_id;
    ClusterKind kind = ClusterKind::topic;
    std::string text;
    int32_t n_tokens = 0;          // generated
    int32_t n_context_tokens = 0;  // tokens in the sequence it was generated from
    StopReason stop_reason = StopReason::max_tokens;
    SequenceTiming timing;
    uint64_t kv_bytes = 0;  // KV the sequence needed when it finished
    // Copy control: share of the text's bytes inside verbatim spans (>= kCopyMinSpan bytes) of
    // its own prompt (system prompt, context, messages, request). rdic/evaluation/questions.h.
    double prompt_copy_share = 0;
    // Prompt tokens a remote engine served from its prefix cache (usage.prompt_tokens_details
    // .cached_tokens), when it reports them; unset in-process (forks are counted by
    // ConditionResult::n_prefill_tokens instead).
    std::optional<int64_t> n_cached_tokens;
};

// A fact question's reply (dataset v2), generated after all outputs of the condition.
struct AnswerResult {
    std::string question_id;
    std::string text;
    int32_t n_tokens = 0;
    int32_t n_context_tokens = 0;  // tokens it was asked after (head, context, messages, question)
    StopReason stop_reason = StopReason::max_tokens;
};

struct ConditionResult {
    Condition condition = Condition::semantic;
    bool naive = false;
    std::vector<OutputResult> outputs;
    KvUsage kv_peak;                  // most distinct KV cells live at once
    uint64_t kv_allocated_bytes = 0;  // KV pools allocated (all sessions together)
    int32_t n_sessions = 0;           // llama contexts used (separate_contexts: one per cluster)
    KvLayout kv_layout = KvLayout::unified;  // of the batched session (naive / separate: unified)
    int64_t n_prefill_tokens = 0;  // tokens actually computed in prefills (forks save these)
    int32_t n_decode_calls = 0;
    // With a draft model (ExecutorOptions::draft): tokens proposed and kept, the draft's decode
    // calls and their time (included in decode_ms); all 0 without one.
    int64_t n_drafted = 0;
    int64_t n_accepted = 0;
    int32_t n_draft_calls = 0;
    double draft_ms = 0;
    double prefill_ms = 0;
    double decode_ms = 0;
    double total_ms = 0;
    uint64_t weights_bytes = 0;  // one copy of the model weights
    // False when the KV cache is not visible (a remote engine): kv_peak, kv_allocated_bytes,
    // n_sessions, kv_layout, weights_bytes and every output's kv_bytes mean nothing and are
    // recorded as absent, not 0.
    bool kv_measured = true;
    std::optional<int64_t> n_cached_prompt_tokens;  // sum of the outputs' n_cached_tokens
    // The other conditions executed in the same Session (run_conditions_together), in plan
    // order; empty when the condition ran alone. When not empty, kv_peak, kv_allocated_bytes,
    // n_decode_calls, the times (prefill_ms, decode_ms, total_ms, draft_*) and the outputs'
    // timings (TTFT included) are the shared session's; n_prefill_tokens, the outputs'
    // kv_bytes and n_context_tokens, the texts and the answers are this condition's own.
    std::vector<Condition> together_with;
    // Fact questions: answered after the outputs in a session of their own (unified KV; each
    // distinct context prefilled once and forked per question), so the outputs' KV, time and
    // TTFT above are the same with or without questions. Greedy replies are the same for every
    // execution (batched, naive, together) up to batch-shape rounding.
    std::vector<AnswerResult> answers;
    double questions_ms = 0;
    // Separate model instances would load the weights once per context:
    uint64_t separate_instances_bytes() const {
        return weights_bytes * static_cast<uint64_t>(n_sessions) + kv_allocated_bytes;
    }
};

// Checks `plan` of `example` against the model's context (n_ctx_train) and the engine's limits
// (kMaxSessionSequences) before anything is decoded. Returns "" when it fits, else one line
// naming the file, the turn or output and the token counts. Cheap for examples that fit (texts
// are tokenized only when their bytes alone could exceed the context): an oversized input is
// refused in about the time one tokenization of it takes.
std::string check_limits(const Model& model, const Example& example, const Plan& plan,
                         const ExecutorOptions& options);

// Throws context_overflow (check_limits' message) when the plan does not fit; nothing is decoded.
ConditionResult run_condition(const std::shared_ptr<const Model>& model, const Example& example,
                              const Plan& plan, const ExecutorOptions& options);

// The KV layout run_condition gives `plan` in batched execution: options.kv_layout when set, else
// unified when some context is shared by several outputs (the baselines), per_sequence otherwise.
KvLayout batched_layout(const Plan& plan, const ExecutorOptions& options);

// Why a plan of condition `c` can never share a Session with other plans ("" when it can):
// separate_contexts needs contexts of its own, and a control has no outputs. The one rule that
// the experiment's grouping, check_together and run_conditions_together apply.
std::string why_condition_runs_alone(Condition c);

// Whether `plans` (of one example) can run together in one Session: "" when they can, else one
// line saying why not (naive execution, why_condition_runs_alone, a plan that fails
// check_limits, or together_refusal's reason: more sequences than the engine holds, or more KV
// than options.together_max_kv_bytes). Sizes the session exactly as run_conditions_together
// would (tokenizes the contexts); decodes nothing.
std::string check_together(const std::shared_ptr<const Model>& model, const Example& example,
                           std::span<const Plan> plans, const ExecutorOptions& options);

// Several conditions of one example executed together in one Session, batched across plans: one
// prefill for the template head and every shared context, all topic outputs of all plans in one
// lockstep batch, then their synthesis outputs together. Each result holds its own outputs (the
// same tokens as run_condition gives, up to batch-shape rounding: exactly the same where the
// plans have the same batched_layout and llama.cpp's kernels round alike at both batch sizes),
// its own n_prefill_tokens (the head and its own contexts and prompts, as alone) and names the
// others in together_with; its times, decode calls and KV peak and allocation are those of the
// whole shared session, and total_ms is the wall time of all of them.
// Throws invalid_argument for options.naive or a condition that runs alone
// (why_condition_runs_alone), context_overflow when a plan fails check_limits; check_together's
// size limits are not applied here (the caller decides).
std::vector<ConditionResult> run_conditions_together(const std::shared_ptr<const Model>& model,
                                                     const Example& example,
                                                     std::span<const Plan> plans,
                                                     const ExecutorOptions& options);

}  // namespace rdic
