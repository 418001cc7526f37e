// Lockstep generation: N sequences decode together, one llama_decode per step for all of them.
// `Generator` is the step-wise form (requests join and leave between steps: continuous
// batching, as a server needs); `generate()` adds every request and steps until all finish.
//
//   std::vector<rdic::GenerationRequest> reqs(2);
//   reqs[0] = {.seq = &a, .prompt = toks_a, .max_tokens = 64};
//   reqs[1] = {.seq = &b, .prompt = toks_b, .max_tokens = 64};
//   auto results = rdic::generate(session, reqs);
//   std::cout << results[0].text;
//
// Each request: its prompt is appended (all prompts in one prefill), then tokens are sampled with
// its own Sampler until an end-of-generation token, a stop string, or max_tokens. A finished
// sequence leaves the batch; the others continue. Generated tokens stay in the sequence (the
// end-of-generation token, and a token that completed a stop string, are not added), so a
// conversation can continue from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "rdic/engine/sampler.h"
#include "rdic/engine/session.h"

namespace rdic {

// cancelled: Generator::cancel() ended the request (a client went away); never from generate().
enum class StopReason { end_of_generation, stop_string, max_tokens, cancelled };
std::string_view to_string(StopReason r);

struct GenerationRequest {
    Sequence* seq = nullptr;
    Tokens prompt;  // appended before generating; may be empty if seq has logits
    SamplerOptions sampling;
    int32_t max_tokens = 256;
    std::vector<std::string> stop;  // stop strings (never part of the returned text)
    // Treat end-of-generation tokens as ordinary tokens and always generate max_tokens
    // (fixed-length benchmarks, shape-controlled tests).
    bool ignore_eog = false;
};

// Per-sequence timing. Prefill time is the wall time of the prefill calls this prompt was part
// of (shared with the other prompts in the same batch).
struct SequenceTiming {
    int32_t n_prompt_tokens = 0;
    int32_t n_generated = 0;
    double prefill_ms = 0;
    double ttft_ms = 0;              // from generate() start to this sequence's first sampled token
    double decode_ms = 0;            // from first to last sampled token
    double decode_tokens_per_s = 0;  // (n_generated - 1) / decode time; 0 when n_generated < 2
    double total_ms = 0;
};

// Speculative decoding's accounting for one request (all 0 without a draft). Acceptance rate =
// n_accepted / n_drafted; tokens per target call = n_generated / n_target_calls.
struct SpeculationStats {
    int32_t n_drafted = 0;       // tokens the draft proposed
    int32_t n_accepted = 0;      // of those, tokens the target kept
    int32_t n_target_calls = 0;  // target decode calls this request took part in after prefill
};

struct GenerationResult {
    std::string text;
    Tokens tokens;
    StopReason stop_reason = StopReason::max_tokens;
    SequenceTiming timing;
    SpeculationStats speculation;
};

struct GenerateOptions {
    // Called before sampling each token with that step's logits; for tests and analysis.
    std::function<void(size_t i_request, int32_t step, std::span<const float> logits)> on_logits;
    // Called with text that became final for a request (streaming).
    std::function<void(size_t i_request, std::string_view text)> on_text;
    // Speculative decoding: called when the target rejects a draft's proposal at `step`, with
    // the proposal and the target's logits there; for tests and analysis.
    std::function<void(size_t i_request, int32_t step, TokenId proposed,
                       std::span<const float> logits)>
        on_rejected;
    // Speculative decoding (docs/engine.md): a Session of a draft model with the target's
    // vocabulary (check_same_vocabulary) proposes up to n_draft_max tokens per request and step;
    // the target verifies them in one decode for all requests. Null = plain decoding. The draft
    // session must outlive the Generator and have a free sequence slot per active request and
    // as much context per sequence as the target. Requests with a grammar decode plainly.
    Session* draft = nullptr;
    int32_t n_draft_max = 8;
    // Greedy drafting stops early when the draft's most likely token has less than this
    // probability (a proposal the target will likely reject costs a draft decode for nothing);
    // 0 = always draft n_draft_max. Sampled drafting ignores it.
    float draft_p_min = 0.0f;
};

struct GenerateStats {
    int32_t n_steps = 0;  // lockstep target decode calls after the prefill
    double prefill_ms = 0;
    double decode_ms = 0;       // target decode calls plus, with a draft, the draft's calls
    int32_t n_draft_calls = 0;  // draft decode calls (its prompt prefills included)
    double draft_ms = 0;        // their wall time (part of decode_ms)
    int64_t n_drafted = 0;      // over all requests (SpeculationStats)
    int64_t n_accepted = 0;
    double wall_ms = 0;
    KvUsage kv_peak;  // session's peak after this call
};

// Step-wise lockstep generation over one Session.
//
//   rdic::Generator gen(session);
//   const auto id = gen.add(std::move(request));   // prefilled at the next step()
//   while (gen.step()) {
//       for (auto& [done_id, result] : gen.take_finished()) { ... }
//   }
//
// step(): prefill the prompts added since the last step (one prefill call for all of them), then
// sample one token for every active request and append the sampled tokens in one decode call.
// A request that finishes (end of generation, stop string, max_tokens, cancel) is handed out by
// take_finished() and leaves the batch; its sequence keeps the tokens it generated. A request's
// TTFT counts from its add(). The Sequence a request points to must outlive it in the Generator.
// An engine error (context_overflow, out_of_memory, backend_failure) propagates from step() and
// leaves the Generator failed: every later call throws, and its requests' sequences hold what
// was decoded before the failing call. Drop it and start again from the sequences.
class Generator {
public:
    using Id = size_t;
    explicit Generator(Session& session, GenerateOptions options = {});
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    // Checks the request (throws invalid_argument naming it) and queues it.
    Id add(GenerationRequest request);
    // Ends a queued or active request at the next step (StopReason::cancelled); false if unknown
    // or already finished.
    bool cancel(Id id);
    // One step; returns false when nothing was left to do (no pending or active request).
    bool step();
    // Results of the requests that finished since the last call, in the order they finished.
    std::vector<std::pair<Id, GenerationResult>> take_finished();

    size_t n_active() const;  // queued or decoding, not yet handed out
    // Totals over every step so far: prefill and decode calls, their wall time, and steps.
    const GenerateStats& stats() const { return stats_; }

private:
    struct Slot;
    void prefill_pending();
    void finish(Id id, StopReason reason);
    // Takes sampled token t into slot `id` (text, stop checks, timing). Returns false when the
    // request finished (then the slot is gone); true when t must be decoded into its sequence.
    bool emit(Id id, TokenId t);
    void step_plain();
    void step_speculative();  // speculative.cpp

    Session& session_;
    GenerateOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;  // by id; a finished slot is reset to nullptr
    std::vector<Id> pending_;                   // added, not yet prefilled
    std::vector<Id> decoding_;                  // prefilled, generating
    std::vector<std::pair<Id, GenerationResult>> finished_;
    GenerateStats stats_;
    bool failed_ = false;
};

// Speculative sampling's acceptance rule for one proposal `d` drawn from the draft's
// distribution `q`, given the target's distribution `p` (both dense over the vocabulary): keeps d
// with probability min(1, p(d)/q(d)); otherwise draws the token from max(0, p - q) normalised
// (from p when that is all zero). Either way the returned token is distributed as p.
// `scratch` is reused storage. Draws from `rng` (one or two numbers).
struct SpeculativeVerdict {
    bool accepted = false;
    TokenId token{};
};
SpeculativeVerdict speculative_accept(std::span<const float> p, std::span<const float> q, TokenId d,
                                      std::mt19937_64& rng, std::vector<float>& scratch);

// Options for a draft model's Session beside `target`: one KV stream for each of `n_seq`
// sequence slots (default: the target's n_seq_max), each of `n_ctx_seq` cells (default: the
// target's per-sequence context; a draft sequence holds its request's whole history), the
// target's threads and KV types.
SessionOptions draft_session_options(const Session& target, int32_t n_seq = 0,
                                     int32_t n_ctx_seq = 0);

std::vector<GenerationResult> generate(Session& session, std::span<GenerationRequest> requests,
                                       const GenerateOptions& options = {},
                                       GenerateStats* stats = nullptr);

}  // namespace rdic
