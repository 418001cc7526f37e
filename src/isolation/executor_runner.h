// Internal to the executor (src/isolation/executor.cpp, executor_together.cpp): the state of one
// plan's execution and the batched group runner. Not a public header.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rdic/evaluation/questions.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/prompt.h"

namespace rdic::executor_detail {

using Clock = std::chrono::steady_clock;

inline Tokens concat(std::initializer_list<const Tokens*> parts) {
    Tokens out;
    for (const Tokens* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

inline int32_t round_up(int64_t n, int32_t to) {
    return static_cast<int32_t>((n + to - 1) / to * to);
}

// generate() with the options' draft model, in a draft Session beside `s` for this call.
std::vector<GenerationResult> generate_with_draft(Session& s, std::span<GenerationRequest> reqs,
                                                  const ExecutorOptions& opt, GenerateStats* stats);

struct Runner {
    const std::shared_ptr<const Model>& model;
    const Example& ex;
    const Plan& plan;
    const ExecutorOptions& opt;
    PromptBuilder prompts;
    ConditionResult result;
    std::vector<std::pair<std::string, std::string>> finished;  // cluster id -> output text
    Clock::time_point t0 = Clock::now();                        // the condition's start
    Clock::time_point generate_start;  // start of the generate() call being recorded

    std::vector<GenerationResult> run(Session& s, std::vector<GenerationRequest>& reqs) {
        generate_start = Clock::now();
        GenerateStats st;
        auto g = generate_with_draft(s, reqs, opt, &st);
        add_stats(st, reqs);
        return g;
    }

    GenerationRequest request_for(Sequence* seq, Tokens prompt, size_t i_output) const {
        GenerationRequest r;
        r.seq = seq;
        r.prompt = std::move(prompt);
        r.sampling = opt.sampling;
        r.sampling.seed = opt.sampling.seed + static_cast<uint32_t>(i_output);
        r.max_tokens = opt.max_tokens;
        if (!opt.ignore_eog) r.stop = prompts.stops();  // fixed length: no stop strings either
        r.ignore_eog = opt.ignore_eog;
        return r;
    }

    void record(const OutputPlan& o, const GenerationResult& g, const Sequence& seq) {
        OutputResult out;
        out.prompt_copy_share =
            copy_share(g.text, prompts.visible_text(o.context, messages_for(o), o.request));
        out.cluster_id = o.cluster_id;
        out.kind = o.kind;
        out.text = g.text;
        out.n_tokens = static_cast<int32_t>(g.tokens.size());
        out.n_context_tokens = seq.n_tokens() - out.n_tokens;
        out.stop_reason = g.stop_reason;
        out.timing = g.timing;
        // Time to first token as the user sees it: from the start of the condition (a context
        // prefilled before generate(), or topic outputs a synthesis waits for, count too).
        out.timing.ttft_ms =
            std::chrono::duration<double, std::milli>(generate_start - t0).count() +
            g.timing.ttft_ms;
        out.kv_bytes = seq.kv_bytes();
        finished.emplace_back(o.cluster_id, g.text);
        result.outputs.push_back(std::move(out));
    }

    void add_stats(const GenerateStats& s, const std::vector<GenerationRequest>& reqs) {
        int64_t n_prompt = 0;
        for (const auto& r : reqs) n_prompt += static_cast<int64_t>(r.prompt.size());
        add_stats(s, n_prompt);
    }
    void add_stats(const GenerateStats& s, int64_t n_prompt_tokens) {
        result.prefill_ms += s.prefill_ms;
        result.decode_ms += s.decode_ms;
        result.n_decode_calls += s.n_steps;
        result.n_drafted += s.n_drafted;
        result.n_accepted += s.n_accepted;
        result.n_draft_calls += s.n_draft_calls;
        result.draft_ms += s.draft_ms;
        result.n_prefill_tokens += n_prompt_tokens;
    }

    std::string messages_for(const OutputPlan& o) const {
        return render_messages(ex, o.message_inputs, finished, plan.prompt_options);
    }

    // KV cells of a session for `n_tokens` (per_sequence: the longest sequence, and every stream
    // gets that much), in 64 bits so that check_together sees a size n_ctx cannot hold.
    static int64_t session_cells(int64_t n_tokens, int32_t n_seqs, KvLayout layout) {
        const int64_t per = (n_tokens + 64 + 255) / 256 * 256;
        return layout == KvLayout::unified ? std::max<int64_t>(512, per) : per * n_seqs;
    }

    SessionOptions session_options(int64_t n_tokens, int32_t n_seqs,
                                   KvLayout layout = KvLayout::unified) const {
        SessionOptions so;
        so.n_ctx = static_cast<int32_t>(session_cells(n_tokens, n_seqs, layout));
        so.n_seq_max = n_seqs;
        so.kv_layout = layout;
        so.n_threads = opt.n_threads;
        so.type_k = opt.type_k;
        so.type_v = opt.type_v;
        so.flash_attn = opt.flash_attn;
        return so;
    }

    // Every output from scratch, one after another; `own_session`: a new context per output.
    void run_serial(bool own_session) {
        std::optional<Session> shared;
        int64_t longest = 0;
        for (const OutputPlan& o : plan.outputs) {
            longest =
                std::max<int64_t>(longest, static_cast<int64_t>(prompts.context(o.context).size()));
        }
        const int64_t budget =
            static_cast<int64_t>(prompts.head().size()) + longest +
            (opt.max_tokens + 64) * (static_cast<int64_t>(plan.outputs.size()) + 1) + 512;
        for (size_t i = 0; i < plan.outputs.size(); ++i) {
            const OutputPlan& o = plan.outputs[i];
            const Tokens ctx = prompts.context(o.context);
            const Tokens req = prompts.request(messages_for(o), o.request);
            std::optional<Session> own;
            Session* s = nullptr;
            if (own_session) {
                own.emplace(model, session_options(static_cast<int64_t>(prompts.head().size() +
                                                                        ctx.size() + req.size()) +
                                                       opt.max_tokens,
                                                   1));
                s = &*own;
                result.kv_allocated_bytes += s->kv_allocated_bytes();
                ++result.n_sessions;
            } else {
                if (!shared) {
                    shared.emplace(model, session_options(budget, 2));
                    result.kv_allocated_bytes += shared->kv_allocated_bytes();
                    ++result.n_sessions;
                }
                s = &*shared;
            }
            Sequence seq = s->open();
            std::vector<GenerationRequest> reqs;
            reqs.push_back(request_for(&seq, concat({&prompts.head(), &ctx, &req}), i));
            const auto g = run(*s, reqs);
            record(o, g[0], seq);
            if (own_session) {
                // Separate contexts all exist at once in a multi-agent system: their peaks add up.
                result.kv_peak.cells_full += s->kv_peak().cells_full;
                result.kv_peak.cells_swa += s->kv_peak().cells_swa;
                result.kv_peak.bytes += s->kv_peak().bytes;
            }
        }
        if (shared) result.kv_peak = shared->kv_peak();
    }

    // The plan's questions, after every output exists (cross questions see the synthesis's
    // messages): one unified session, the head prefilled once, each distinct context once and
    // forked per question, all questions decoded in one lockstep batch.
    void answer_questions() {
        if (plan.questions.empty()) return;
        const auto q0 = Clock::now();
        std::map<std::string, Tokens> ctx;
        std::vector<Tokens> reqs_tokens;
        int64_t budget = static_cast<int64_t>(prompts.head().size()) + 64;
        for (const QuestionPlan& q : plan.questions) {
            if (!ctx.count(q.context_key)) {
                ctx[q.context_key] = prompts.context(q.context);
                budget += static_cast<int64_t>(ctx[q.context_key].size());
            }
            reqs_tokens.push_back(prompts.request(
                render_messages(ex, q.message_inputs, finished, plan.prompt_options), q.request));
            budget += static_cast<int64_t>(reqs_tokens.back().size()) + opt.answer_max_tokens + 8;
        }
        const auto n_q = static_cast<int32_t>(plan.questions.size());
        Session s(model, session_options(budget, 2 + static_cast<int32_t>(ctx.size()) + n_q));
        Sequence root = s.open();
        s.prefill({{&root, prompts.head()}});
        std::map<std::string, Sequence> ctx_seq;
        std::vector<PrefillItem> items;
        for (const auto& [key, tokens] : ctx) ctx_seq.emplace(key, s.fork(root));
        for (auto& [key, seq] : ctx_seq) {
            if (!ctx.at(key).empty()) items.push_back({&seq, ctx.at(key)});  // empty: the control
        }
        if (!items.empty()) s.prefill(items);
        std::vector<Sequence> seqs;
        seqs.reserve(plan.questions.size());  // requests point into it
        std::vector<GenerationRequest> reqs;
        for (size_t i = 0; i < plan.questions.size(); ++i) {
            seqs.push_back(s.fork(ctx_seq.at(plan.questions[i].context_key)));
            GenerationRequest r = request_for(&seqs.back(), reqs_tokens[i], 0);
            r.sampling.seed = opt.sampling.seed + kAnswerSeedOffset + static_cast<uint32_t>(i);
            r.max_tokens = opt.answer_max_tokens;
            r.stop = prompts.stops();
            r.ignore_eog = false;
            reqs.push_back(std::move(r));
        }
        const auto g = generate_with_draft(s, reqs, opt, nullptr);
        for (size_t i = 0; i < g.size(); ++i) {
            AnswerResult a;
            a.question_id = plan.questions[i].question_id;
            a.text = g[i].text;
            a.n_tokens = static_cast<int32_t>(g[i].tokens.size());
            a.n_context_tokens = seqs[i].n_tokens() - a.n_tokens;
            a.stop_reason = g[i].stop_reason;
            result.answers.push_back(std::move(a));
        }
        result.questions_ms = std::chrono::duration<double, std::milli>(Clock::now() - q0).count();
    }
};

// Batched execution of one or more plans of the same example in one Session. With one plan this
// is the default execution; with several, every phase is shared across plans: one prefill for all
// shared contexts, one lockstep batch for all topic outputs, then the synthesis outputs of all
// plans together (the k-th synthesis of every plan in round k, so dependency order holds).
void run_batched_group(const std::vector<Runner*>& rs);

// Outputs in the plan's order.
void order_outputs(const Plan& plan, ConditionResult& result);

}  // namespace rdic::executor_detail
