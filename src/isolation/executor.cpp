#include "rdic/isolation/executor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "rdic/error.h"
#include "rdic/evaluation/questions.h"
#include "rdic/isolation/prompt.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

Tokens concat(std::initializer_list<const Tokens*> parts) {
    Tokens out;
    for (const Tokens* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

int32_t round_up(int64_t n, int32_t to) {
    return static_cast<int32_t>((n + to - 1) / to * to);
}

// generate() with the options' draft model, in a draft Session beside `s` for this call.
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

    SessionOptions session_options(int64_t n_tokens, int32_t n_seqs,
                                   KvLayout layout = KvLayout::unified) const {
        SessionOptions so;
        // per_sequence: n_tokens is the longest sequence, and every stream gets that much.
        so.n_ctx = layout == KvLayout::unified ? std::max(512, round_up(n_tokens + 64, 256))
                                               : round_up(n_tokens + 64, 256) * n_seqs;
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
void run_batched_group(const std::vector<Runner*>& rs) {
    struct PlanState {
        std::map<std::string, int> uses;  // context key -> outputs using it (>1: prefill once)
        std::map<std::string, Tokens> ctx_tokens;
    };
    std::vector<PlanState> ps(rs.size());
    const Runner& first = *rs.front();
    int64_t budget = static_cast<int64_t>(first.prompts.head().size()) + 64;
    int32_t n_seqs = 2;
    for (size_t p = 0; p < rs.size(); ++p) {
        const Runner& r = *rs[p];
        for (const OutputPlan& o : r.plan.outputs) ++ps[p].uses[o.context_key];
        for (const OutputPlan& o : r.plan.outputs) {
            if (!ps[p].ctx_tokens.count(o.context_key)) {
                ps[p].ctx_tokens[o.context_key] = r.prompts.context(o.context);
                budget += static_cast<int64_t>(ps[p].ctx_tokens[o.context_key].size());
            }
            budget += r.opt.max_tokens * 2 + 128 + static_cast<int64_t>(o.request.size());
        }
        n_seqs += static_cast<int32_t>(ps[p].uses.size() + r.plan.outputs.size());
    }
    bool any_shared = false;
    for (const PlanState& p : ps) {
        for (const auto& [key, n] : p.uses) any_shared = any_shared || n > 1;
    }
    const KvLayout layout =
        first.opt.kv_layout.value_or(any_shared ? KvLayout::unified : KvLayout::per_sequence);
    if (layout == KvLayout::per_sequence) {
        // One stream per live sequence, each as long as the longest: the head, the shared
        // contexts, and the outputs of the largest round (all topics, or one synthesis per plan).
        int64_t longest = 0;
        int32_t n_shared = 0, n_topics = 0, n_synth = 0;
        for (size_t p = 0; p < rs.size(); ++p) {
            const Runner& r = *rs[p];
            int32_t synth_here = 0;
            for (const auto& [key, n] : ps[p].uses) n_shared += n > 1 ? 1 : 0;
            for (const OutputPlan& o : r.plan.outputs) {
                (o.kind == ClusterKind::topic ? n_topics : synth_here) += 1;
                // Each message is an earlier output re-tokenized: budgeted at twice its tokens.
                const int64_t messages = static_cast<int64_t>(o.message_inputs.size()) *
                                         (2 * static_cast<int64_t>(r.opt.max_tokens) + 64);
                longest = std::max<int64_t>(
                    longest, static_cast<int64_t>(r.prompts.head().size() +
                                                  ps[p].ctx_tokens[o.context_key].size() +
                                                  o.request.size()) +
                                 messages + r.opt.max_tokens + 64);
            }
            n_synth += synth_here > 0 ? 1 : 0;
        }
        budget = longest;
        n_seqs = 1 + n_shared + std::max(n_topics, n_synth);
    }
    Session session(first.model, first.session_options(budget, n_seqs, layout));
    for (Runner* r : rs) {
        r->result.kv_allocated_bytes = session.kv_allocated_bytes();
        r->result.n_sessions = 1;
        r->result.kv_layout = layout;
    }
    // Shared calls (template head, shared contexts) count in every plan's result.
    auto add_shared = [&](const DecodeStats& st) {
        for (Runner* r : rs) {
            r->result.prefill_ms += st.wall_ms;
            r->result.n_prefill_tokens += st.n_tokens;
        }
    };

    Sequence root = session.open();
    add_shared(session.prefill({{&root, first.prompts.head()}}));

    // Shared contexts: fork the head, prefill every plan's shared contexts in one call.
    std::vector<std::map<std::string, Sequence>> ctx_seq(rs.size());
    std::vector<PrefillItem> items;
    for (size_t p = 0; p < rs.size(); ++p) {
        for (const auto& [key, n] : ps[p].uses) {
            if (n > 1) ctx_seq[p].emplace(key, session.fork(root));
        }
        for (auto& [key, seq] : ctx_seq[p]) items.push_back({&seq, ps[p].ctx_tokens[key]});
    }
    if (!items.empty()) add_shared(session.prefill(items));

    // Forks the sequence an output starts from; returns the tokens still to append.
    auto start = [&](size_t p, const OutputPlan& o, std::vector<Sequence>& seqs) {
        const bool shared = ctx_seq[p].count(o.context_key) > 0;
        seqs.push_back(session.fork(shared ? ctx_seq[p].at(o.context_key) : root));
        const Tokens req = rs[p]->prompts.request(rs[p]->messages_for(o), o.request);
        return shared ? req : concat({&ps[p].ctx_tokens[o.context_key], &req});
    };
    // One generate() for `outs` (plan index, output); each plan is charged its own prompts.
    auto run_round = [&](const std::vector<std::pair<size_t, const OutputPlan*>>& outs) {
        std::vector<Sequence> seqs;
        seqs.reserve(outs.size());  // requests point into it
        std::vector<Tokens> prompts;
        for (const auto& [p, o] : outs) prompts.push_back(start(p, *o, seqs));
        std::vector<GenerationRequest> reqs;
        std::vector<int64_t> n_prompt(rs.size(), -1);
        for (size_t k = 0; k < outs.size(); ++k) {
            const auto [p, o] = outs[k];
            const auto i_output = static_cast<size_t>(o - rs[p]->plan.outputs.data());
            reqs.push_back(rs[p]->request_for(&seqs[k], prompts[k], i_output));
            n_prompt[p] =
                std::max<int64_t>(n_prompt[p], 0) + static_cast<int64_t>(prompts[k].size());
        }
        const auto t_start = Clock::now();
        GenerateStats st;
        const auto g = generate_with_draft(session, reqs, first.opt, &st);
        for (size_t p = 0; p < rs.size(); ++p) {
            if (n_prompt[p] < 0) continue;
            rs[p]->generate_start = t_start;
            rs[p]->add_stats(st, n_prompt[p]);
        }
        for (size_t k = 0; k < outs.size(); ++k)
            rs[outs[k].first]->record(*outs[k].second, g[k], seqs[k]);
    };  // the round's sequences are freed here

    std::vector<std::pair<size_t, const OutputPlan*>> topics;
    for (size_t p = 0; p < rs.size(); ++p) {
        for (const OutputPlan& o : rs[p]->plan.outputs) {
            if (o.kind == ClusterKind::topic) topics.emplace_back(p, &o);
        }
    }
    if (!topics.empty()) run_round(topics);
    for (size_t round = 0;; ++round) {
        std::vector<std::pair<size_t, const OutputPlan*>> synth;
        for (size_t p = 0; p < rs.size(); ++p) {
            size_t k = 0;
            for (const OutputPlan& o : rs[p]->plan.outputs) {
                if (o.kind != ClusterKind::synthesis) continue;
                if (k++ == round) synth.emplace_back(p, &o);
            }
        }
        if (synth.empty()) break;
        run_round(synth);
    }
    for (Runner* r : rs) r->result.kv_peak = session.kv_peak();
}

// Outputs in the plan's order.
void order_outputs(const Plan& plan, ConditionResult& result) {
    std::vector<OutputResult> ordered;
    for (const OutputPlan& o : plan.outputs) {
        for (OutputResult& out : result.outputs) {
            if (out.cluster_id == o.cluster_id) ordered.push_back(std::move(out));
        }
    }
    result.outputs = std::move(ordered);
}

}  // namespace

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

std::vector<ConditionResult> run_conditions_together(const std::shared_ptr<const Model>& model,
                                                     const Example& example,
                                                     std::span<const Plan> plans,
                                                     const ExecutorOptions& options) {
    if (options.naive) {
        throw Error(ErrorCode::invalid_argument, "conditions run together only batched, not naive");
    }
    if (plans.empty()) return {};
    const auto t0 = Clock::now();
    const PromptBuilder prompts(*model, options.system_prompt, options.chat_template);
    std::vector<Runner> runners;
    runners.reserve(plans.size());
    for (const Plan& plan : plans) {
        if (std::string why = check_limits(*model, example, plan, options); !why.empty()) {
            throw Error(ErrorCode::context_overflow, why);
        }
        if (plan.condition == Condition::separate_contexts) {
            throw Error(ErrorCode::invalid_argument,
                        "separate_contexts cannot run together with other conditions (it needs "
                        "its own contexts)");
        }
        if (is_control(plan.condition)) {
            throw Error(ErrorCode::invalid_argument,
                        std::string(to_string(plan.condition)) +
                            " is a control without outputs; run it with run_condition");
        }
        runners.push_back(Runner{model, example, plan, options, prompts, {}, {}, t0, t0});
        runners.back().result.condition = plan.condition;
        runners.back().result.weights_bytes = model->info().weight_bytes;
    }
    std::vector<Runner*> rs;
    for (Runner& r : runners) rs.push_back(&r);
    run_batched_group(rs);
    const double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::vector<ConditionResult> out;
    for (Runner& r : runners) {
        r.result.total_ms = total_ms;
        order_outputs(r.plan, r.result);
        r.answer_questions();
        out.push_back(std::move(r.result));
    }
    return out;
}

}  // namespace rdic
