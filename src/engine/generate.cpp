#include "rdic/engine/generate.h"

#include <chrono>
#include <utility>

#include "generate_internal.h"
#include "rdic/error.h"
#include "rdic/text_stream.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

std::string_view to_string(StopReason r) {
    switch (r) {
        case StopReason::end_of_generation:
            return "end_of_generation";
        case StopReason::stop_string:
            return "stop_string";
        case StopReason::max_tokens:
            return "max_tokens";
        case StopReason::cancelled:
            return "cancelled";
    }
    return "?";
}

Generator::Generator(Session& session, GenerateOptions options)
    : session_(session), options_(std::move(options)) {}

Generator::~Generator() = default;

Generator::Id Generator::add(GenerationRequest r) {
    if (failed_) throw Error(ErrorCode::invalid_argument, "generator: used after a failed step");
    const Id id = slots_.size();
    const std::string what = "generate: request " + std::to_string(id);
    if (r.seq == nullptr || !r.seq->valid()) {
        throw Error(ErrorCode::invalid_argument, what + " has no sequence");
    }
    if (r.max_tokens < 0) throw Error(ErrorCode::invalid_argument, what + " max_tokens < 0");
    if (r.prompt.empty() && session_.last_logits(*r.seq) == nullptr && r.seq->n_tokens() == 0) {
        throw Error(ErrorCode::invalid_argument,
                    what + " has an empty sequence and an empty prompt");
    }
    if (options_.draft != nullptr && options_.n_draft_max < 1) {
        throw Error(ErrorCode::invalid_argument, "generate: n_draft_max must be >= 1");
    }
    slots_.push_back(std::make_unique<Slot>(std::move(r), &session_.model()));
    slots_.back()->added = Clock::now();
    pending_.push_back(id);
    return id;
}

bool Generator::cancel(Id id) {
    if (id >= slots_.size() || !slots_[id]) return false;
    if (slots_[id]->cancelled) return false;
    slots_[id]->cancelled = true;
    return true;
}

size_t Generator::n_active() const {
    return pending_.size() + decoding_.size();
}

std::vector<std::pair<Generator::Id, GenerationResult>> Generator::take_finished() {
    return std::exchange(finished_, {});
}

void Generator::finish(Id id, StopReason reason) {
    Slot& slot = *slots_[id];
    slot.result.stop_reason = reason;
    slot.result.text = slot.text.finish();
    if (options_.on_text) {
        // Release what was held back (a stop-string prefix that never completed).
        if (std::string rest = slot.text.take_ready(); !rest.empty()) options_.on_text(id, rest);
    }
    SequenceTiming& tm = slot.result.timing;
    tm.n_generated = static_cast<int32_t>(slot.result.tokens.size());
    if (slot.step > 0) tm.decode_ms = ms_between(slot.first_token, slot.last_token);
    if (slot.step > 1 && tm.decode_ms > 0)
        tm.decode_tokens_per_s = (slot.step - 1) * 1000.0 / tm.decode_ms;
    tm.total_ms = ms_between(slot.added, slot.step > 0 ? slot.last_token : Clock::now());
    finished_.emplace_back(id, std::move(slot.result));
    slots_[id].reset();
}

// Prompts of the requests added since the last step, all in one prefill call. A request without
// a prompt re-feeds its last token when its sequence has no logits (e.g. a fresh fork), which
// costs one token, not a prefill.
void Generator::prefill_pending() {
    std::vector<PrefillItem> items;
    std::vector<Id> started;
    for (const Id id : pending_) {
        Slot& s = *slots_[id];
        if (s.cancelled) {
            finish(id, StopReason::cancelled);
            continue;
        }
        std::span<const TokenId> toks = s.request.prompt;
        if (toks.empty() && session_.last_logits(*s.request.seq) == nullptr) {
            s.refeed = {s.request.seq->tokens().back()};
            s.request.seq->truncate(s.request.seq->n_tokens() - 1);
            toks = s.refeed;
        }
        s.result.timing.n_prompt_tokens = static_cast<int32_t>(toks.size());
        if (!toks.empty()) items.push_back({s.request.seq, toks});
        started.push_back(id);
    }
    pending_.clear();
    if (started.empty()) return;
    const DecodeStats pre = session_.prefill(items);
    stats_.prefill_ms += pre.wall_ms;
    for (const Id id : started) {
        slots_[id]->result.timing.prefill_ms = pre.wall_ms;
        decoding_.push_back(id);
    }
}

bool Generator::emit(Id id, TokenId t) {
    Slot& s = *slots_[id];
    const Model& model = session_.model();
    const auto now = Clock::now();
    if (s.step == 0) {
        s.first_token = now;
        s.result.timing.ttft_ms = ms_between(s.added, now);
    }
    s.last_token = now;
    ++s.step;
    if (!s.request.ignore_eog && model.is_end_of_generation(t)) {
        finish(id, StopReason::end_of_generation);
        return false;
    }
    s.result.tokens.push_back(t);
    const bool stopped = s.text.push(model.token_to_piece(t, /*render_special=*/true));
    if (options_.on_text) {
        if (std::string ready = s.text.take_ready(); !ready.empty()) options_.on_text(id, ready);
    }
    if (stopped) {  // the stop string's last token is in the tokens, not in the text or the KV
        finish(id, StopReason::stop_string);
        return false;
    }
    return true;  // at max_tokens the last token still goes in: the sequence matches tokens
}

bool Generator::step() {
    if (failed_) throw Error(ErrorCode::invalid_argument, "generator: used after a failed step");
    if (pending_.empty() && decoding_.empty()) return false;
    const auto t0 = Clock::now();
    try {
        if (options_.draft != nullptr) {
            step_speculative();
        } else {
            step_plain();
        }
    } catch (...) {
        failed_ = true;
        throw;
    }
    stats_.wall_ms += ms_between(t0, Clock::now());
    stats_.kv_peak = session_.kv_peak();
    return true;
}

void Generator::step_plain() {
    prefill_pending();
    const int32_t n_vocab = session_.model().info().n_vocab;
    std::vector<PrefillItem> step_items;
    std::vector<Id> still;
    for (const Id id : decoding_) {
        Slot& s = *slots_[id];
        if (s.cancelled) {
            finish(id, StopReason::cancelled);
            continue;
        }
        if (s.step >= s.request.max_tokens) {
            finish(id, StopReason::max_tokens);
            continue;
        }
        const float* logits = session_.last_logits(*s.request.seq);
        if (options_.on_logits) {
            options_.on_logits(id, s.step, std::span<const float>(logits, n_vocab));
        }
        const TokenId t = s.sampler.sample(logits, n_vocab);
        if (!emit(id, t)) continue;
        s.next = t;
        step_items.push_back({s.request.seq, std::span<const TokenId>(&s.next, 1)});
        still.push_back(id);
    }
    decoding_ = std::move(still);
    if (!step_items.empty()) {
        const DecodeStats ds = session_.prefill(step_items);
        stats_.decode_ms += ds.wall_ms;
        ++stats_.n_steps;
        for (const Id id : decoding_) ++slots_[id]->result.speculation.n_target_calls;
    }
}

SessionOptions draft_session_options(const Session& target, int32_t n_seq, int32_t n_ctx_seq) {
    SessionOptions o = target.options();
    o.kv_layout = KvLayout::per_sequence;
    if (n_seq > 0) o.n_seq_max = n_seq;
    o.n_ctx = (n_ctx_seq > 0 ? n_ctx_seq : target.n_ctx_seq()) * o.n_seq_max;
    o.embeddings = false;
    o.swa_full = false;
    return o;
}

std::vector<GenerationResult> generate(Session& session, std::span<GenerationRequest> requests,
                                       const GenerateOptions& options, GenerateStats* stats) {
    Generator gen(session, options);
    for (const GenerationRequest& r : requests) gen.add(r);
    std::vector<GenerationResult> results(requests.size());
    while (gen.step()) {
        for (auto& [id, res] : gen.take_finished()) results[id] = std::move(res);
    }
    for (auto& [id, res] : gen.take_finished()) results[id] = std::move(res);
    if (stats != nullptr) *stats = gen.stats();
    return results;
}

}  // namespace rdic
