#include "rdic/engine/generate.h"

#include <chrono>

#include "rdic/error.h"
#include "rdic/text_stream.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Active {
    Sampler sampler;
    TextStream text;
    bool done = false;
    int32_t step = 0;
    Clock::time_point first_token;
    Clock::time_point last_token;
};

}  // namespace

std::string_view to_string(StopReason r) {
    switch (r) {
        case StopReason::end_of_generation:
            return "end_of_generation";
        case StopReason::stop_string:
            return "stop_string";
        case StopReason::max_tokens:
            return "max_tokens";
    }
    return "?";
}

std::vector<GenerationResult> generate(Session& session, std::span<GenerationRequest> requests,
                                       const GenerateOptions& options, GenerateStats* stats) {
    const auto t_start = Clock::now();
    const Model& model = session.model();
    const int32_t n_vocab = model.info().n_vocab;
    std::vector<GenerationResult> results(requests.size());
    std::vector<Active> active;
    active.reserve(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        const GenerationRequest& r = requests[i];
        if (r.seq == nullptr || !r.seq->valid()) {
            throw Error(ErrorCode::invalid_argument,
                        "generate: request " + std::to_string(i) + " has no sequence");
        }
        if (r.max_tokens < 0) {
            throw Error(ErrorCode::invalid_argument,
                        "generate: request " + std::to_string(i) + " max_tokens < 0");
        }
        active.push_back({Sampler(r.sampling, &model), TextStream(r.stop), false, 0, {}, {}});
    }

    // 1. Prefill every prompt together. A request without a prompt re-feeds its last token when
    //    its sequence has no logits (e.g. a fresh fork), which costs one token, not a prefill.
    std::vector<Tokens> refeed(requests.size());
    std::vector<PrefillItem> items;
    for (size_t i = 0; i < requests.size(); ++i) {
        GenerationRequest& r = requests[i];
        std::span<const TokenId> toks = r.prompt;
        if (toks.empty() && session.last_logits(*r.seq) == nullptr) {
            if (r.seq->n_tokens() == 0) {
                throw Error(ErrorCode::invalid_argument,
                            "generate: request " + std::to_string(i) +
                                " has an empty sequence and an empty prompt");
            }
            refeed[i] = {r.seq->tokens().back()};
            r.seq->truncate(r.seq->n_tokens() - 1);
            toks = refeed[i];
        }
        results[i].timing.n_prompt_tokens = static_cast<int32_t>(toks.size());
        if (!toks.empty()) items.push_back({r.seq, toks});
    }
    const DecodeStats pre = session.prefill(items);
    for (auto& res : results) res.timing.prefill_ms = pre.wall_ms;

    // 2. Lockstep decode: sample every unfinished request, then one llama_decode for all.
    std::vector<TokenId> next(requests.size());
    std::vector<PrefillItem> step_items;
    int32_t n_steps = 0;
    double decode_ms = 0;
    for (;;) {
        step_items.clear();
        for (size_t i = 0; i < requests.size(); ++i) {
            Active& a = active[i];
            if (a.done) continue;
            GenerationRequest& r = requests[i];
            GenerationResult& res = results[i];
            if (a.step >= r.max_tokens) {
                a.done = true;
                res.stop_reason = StopReason::max_tokens;
                continue;
            }
            const float* logits = session.last_logits(*r.seq);
            if (options.on_logits) {
                options.on_logits(i, a.step, std::span<const float>(logits, n_vocab));
            }
            const TokenId t = a.sampler.sample(logits, n_vocab);
            const auto now = Clock::now();
            if (a.step == 0) {
                a.first_token = now;
                res.timing.ttft_ms = ms_between(t_start, now);
            }
            a.last_token = now;
            ++a.step;
            if (!r.ignore_eog && model.is_end_of_generation(t)) {
                a.done = true;
                res.stop_reason = StopReason::end_of_generation;
                continue;
            }
            res.tokens.push_back(t);
            if (a.text.push(model.token_to_piece(t, /*render_special=*/true))) {
                a.done = true;
                res.stop_reason = StopReason::stop_string;
            }
            if (options.on_text) {
                if (std::string ready = a.text.take_ready(); !ready.empty()) {
                    options.on_text(i, ready);
                }
            }
            if (a.done) continue;  // the stop string's token is kept in the KV, not the text
            if (a.step >= r.max_tokens) {
                // Keep the sequence consistent with res.tokens: the last token still goes in.
                a.done = true;
                res.stop_reason = StopReason::max_tokens;
            }
            next[i] = t;
            step_items.push_back({r.seq, std::span<const TokenId>(&next[i], 1)});
        }
        if (step_items.empty()) break;
        const DecodeStats ds = session.prefill(step_items);
        decode_ms += ds.wall_ms;
        ++n_steps;
    }

    const auto t_end = Clock::now();
    for (size_t i = 0; i < requests.size(); ++i) {
        GenerationResult& res = results[i];
        Active& a = active[i];
        res.text = a.text.finish();
        if (options.on_text) {
            // Release what was held back (a stop-string prefix that never completed).
            if (std::string rest = a.text.take_ready(); !rest.empty()) options.on_text(i, rest);
        }
        SequenceTiming& tm = res.timing;
        tm.n_generated = static_cast<int32_t>(res.tokens.size());
        if (a.step > 0) tm.decode_ms = ms_between(a.first_token, a.last_token);
        if (a.step > 1 && tm.decode_ms > 0)
            tm.decode_tokens_per_s = (a.step - 1) * 1000.0 / tm.decode_ms;
        tm.total_ms = ms_between(t_start, a.step > 0 ? a.last_token : t_end);
    }
    if (stats != nullptr) {
        stats->n_steps = n_steps;
        stats->prefill_ms = pre.wall_ms;
        stats->decode_ms = decode_ms;
        stats->wall_ms = ms_between(t_start, t_end);
        stats->kv_peak = session.kv_peak();
    }
    return results;
}

}  // namespace rdic
