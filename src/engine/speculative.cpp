// Speculative decoding: Generator::step() when a draft session is given (docs/engine.md).
//
// One step, all active requests in lockstep:
//   1. each request takes its next token t0 from the target's logits (as plain decoding does);
//   2. the draft catches up on the tokens it has not seen, appends t0 and proposes k tokens
//      d1..dk, one draft decode per proposal for all requests together;
//   3. the target decodes [t0, d1..dk] of every request in one call, keeping every row's logits;
//   4. each request keeps the longest run of proposals the target agrees with, then the rows
//      after it give the next step's logits; rejected cells leave both KV caches.
// Greedy: d_i is kept when it is the target's argmax after d1..d(i-1), so the tokens are the
// ones plain greedy decoding picks from the same logits. Sampled: d_i, drawn from the draft's
// distribution q, is kept with probability min(1, p(d_i)/q(d_i)) (p: the target's distribution
// under the same sampling options); on a rejection the next token is drawn from
// max(0, p - q) normalised, which makes every emitted token follow p.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "generate_internal.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// A draw from the unnormalised weights `w` (sum `total` > 0).
TokenId draw(const std::vector<float>& w, double total, std::mt19937_64& rng) {
    const double u = uniform01(rng) * total;
    double acc = 0;
    size_t last = 0;
    for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] <= 0) continue;
        last = i;
        acc += w[i];
        if (u < acc) return TokenId(static_cast<int32_t>(i));
    }
    return TokenId(static_cast<int32_t>(last));  // rounding at the very end
}

TokenId argmax(const float* logits, int32_t n_vocab) {
    return TokenId(static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits));
}

// Softmax probability of the most likely token.
double top_probability(const float* logits, int32_t n_vocab) {
    const float top = *std::max_element(logits, logits + n_vocab);
    double z = 0;
    for (int32_t i = 0; i < n_vocab; ++i) z += std::exp(double{logits[i]} - top);
    return 1.0 / z;
}

constexpr uint64_t kAcceptSeedSalt = 0x9e3779b97f4a7c15ULL;  // acceptance draws != the sampler's

}  // namespace

SpeculativeVerdict speculative_accept(std::span<const float> p, std::span<const float> q, TokenId d,
                                      std::mt19937_64& rng, std::vector<float>& scratch) {
    const auto di = static_cast<size_t>(d.value);
    if (uniform01(rng) * q[di] < p[di]) return {true, d};  // u < p/q
    scratch.resize(p.size());
    double total = 0;
    for (size_t v = 0; v < p.size(); ++v) {
        scratch[v] = std::max(0.0f, p[v] - q[v]);
        total += scratch[v];
    }
    if (total > 0) return {false, draw(scratch, total, rng)};
    scratch.assign(p.begin(), p.end());
    return {false, draw(scratch, 1.0, rng)};
}

void Generator::step_speculative() {
    Session& draft = *options_.draft;
    prefill_pending();
    const int32_t n_vocab = session_.model().info().n_vocab;

    struct Work {
        Id id;
        int32_t k;      // proposals wanted (lowered when the draft loses confidence)
        Tokens feed;    // draft's first input: what it lacks, then t0
        Tokens verify;  // target's input: t0, d1..dk
    };
    std::vector<Work> work;
    std::vector<Id> still;
    // 1. The next token of every request, from the target's logits.
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
        if (!s.spec_started) {
            s.spec_started = true;
            s.n_kv = s.request.seq->n_tokens();
            s.speculate = !s.sampler.has_grammar();
            if (s.speculate) s.draft_seq = draft.open();
            s.rng.seed(uint64_t{s.request.sampling.seed} ^ kAcceptSeedSalt);
        }
        const float* logits = s.has_logits ? s.logits.data() : session_.last_logits(*s.request.seq);
        if (options_.on_logits) {
            options_.on_logits(id, s.step, std::span<const float>(logits, n_vocab));
        }
        const TokenId t0 = s.forced ? *s.forced : s.sampler.sample(logits, n_vocab);
        s.forced.reset();
        if (!emit(id, t0)) continue;
        Work w{id, 0, {}, {t0}};
        if (s.speculate) {
            const int32_t room = std::min(session_.n_ctx_seq(), draft.n_ctx_seq()) - s.n_kv - 1;
            w.k =
                std::max(0, std::min({options_.n_draft_max, s.request.max_tokens - s.step, room}));
        }
        if (w.k > 0) {
            const Tokens& have = s.request.seq->tokens();
            w.feed.assign(have.begin() + s.draft_seq.n_tokens(), have.begin() + s.n_kv);
            w.feed.push_back(t0);
            s.drafted.clear();
            s.drafted.reserve(static_cast<size_t>(w.k));
            s.draft_probs.clear();
        }
        work.push_back(std::move(w));
        still.push_back(id);
    }
    decoding_ = std::move(still);
    if (work.empty()) return;

    // 2. Proposals: one draft decode per round for every request still drafting.
    std::vector<PrefillItem> items;
    for (const Work& w : work) {
        if (w.k > 0) items.push_back({&slots_[w.id]->draft_seq, w.feed});
    }
    while (!items.empty()) {
        const DecodeStats ds = draft.prefill(items);
        stats_.n_draft_calls += ds.n_calls;
        stats_.draft_ms += ds.wall_ms;
        stats_.decode_ms += ds.wall_ms;
        items.clear();
        for (Work& w : work) {
            Slot& s = *slots_[w.id];
            if (static_cast<int32_t>(s.drafted.size()) >= w.k) continue;
            const float* q = draft.last_logits(s.draft_seq);
            TokenId d;
            if (s.sampler.greedy()) {
                if (options_.draft_p_min > 0 && !s.drafted.empty() &&
                    top_probability(q, n_vocab) < options_.draft_p_min) {
                    w.k = static_cast<int32_t>(s.drafted.size());  // keep what it has
                    continue;
                }
                d = argmax(q, n_vocab);
            } else {
                s.draft_probs.emplace_back();
                s.sampler.distribution(q, n_vocab, s.draft_probs.back());
                d = draw(s.draft_probs.back(), 1.0, s.rng);
            }
            s.drafted.push_back(d);
            if (static_cast<int32_t>(s.drafted.size()) < w.k) {
                items.push_back({&s.draft_seq, std::span<const TokenId>(&s.drafted.back(), 1)});
            }
        }
    }

    // 3. Verification: every request's t0 and proposals in one target decode, all rows kept.
    for (Work& w : work) {
        const Slot& s = *slots_[w.id];
        if (w.k > 0) w.verify.insert(w.verify.end(), s.drafted.begin(), s.drafted.end());
        items.push_back({s.request.seq, w.verify, /*all_logits=*/true});
    }
    const DecodeStats ds = session_.prefill(items);
    stats_.decode_ms += ds.wall_ms;
    ++stats_.n_steps;

    // 4. Acceptance, then both caches cut back to what was kept.
    std::vector<float> p, residual;
    std::vector<Id> kept;
    for (const Work& w : work) {
        Slot& s = *slots_[w.id];
        Sequence* seq = s.request.seq;
        ++s.n_kv;  // t0
        SpeculationStats& acc = s.result.speculation;
        ++acc.n_target_calls;
        acc.n_drafted += w.k;
        stats_.n_drafted += w.k;
        int32_t j = 0;
        bool finished = false;
        for (int32_t i = 0; i < w.k && s.step < s.request.max_tokens; ++i) {
            const float* row = session_.token_logits(*seq, i);
            const TokenId d = s.drafted[static_cast<size_t>(i)];
            if (s.sampler.greedy()) {
                if (s.sampler.sample(row, n_vocab) != d) {
                    if (options_.on_rejected) {
                        options_.on_rejected(w.id, s.step, d, std::span<const float>(row, n_vocab));
                    }
                    break;
                }
            } else {
                s.sampler.distribution(row, n_vocab, p);
                const SpeculativeVerdict v = speculative_accept(
                    p, s.draft_probs[static_cast<size_t>(i)], d, s.rng, residual);
                if (!v.accepted) {
                    s.forced = v.token;
                    if (options_.on_rejected) {
                        options_.on_rejected(w.id, s.step, d, std::span<const float>(row, n_vocab));
                    }
                    break;
                }
            }
            ++j;
            ++acc.n_accepted;
            ++stats_.n_accepted;
            if (options_.on_logits) {
                options_.on_logits(w.id, s.step, std::span<const float>(row, n_vocab));
            }
            const int32_t n_kv = s.n_kv;
            if (!emit(w.id, d)) {  // the slot is gone; plain decoding would not hold d
                seq->truncate(n_kv);
                finished = true;
                break;
            }
            ++s.n_kv;
        }
        if (finished) continue;
        const float* next = session_.token_logits(*seq, j);
        s.logits.assign(next, next + n_vocab);
        s.has_logits = true;
        if (seq->n_tokens() > s.n_kv) seq->truncate(s.n_kv);
        if (s.draft_seq.valid() && s.draft_seq.n_tokens() > s.n_kv) s.draft_seq.truncate(s.n_kv);
        kept.push_back(w.id);
    }
    decoding_ = std::move(kept);
}

}  // namespace rdic
