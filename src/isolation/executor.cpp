#include "rdic/isolation/executor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "rdic/engine/chat.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUserMarker = "\x1fRDIC_USER_CONTENT\x1f";

// Token pieces of every prompt: head (template up to the user content, with the system
// prompt), the context block, the request (+messages), and the template's tail.
class Prompts {
public:
    Prompts(const Model& model, const ExecutorOptions& o) : model_(model) {
        const ChatFormatter chat(model, o.chat_template);
        std::vector<ChatMessage> msgs;
        if (!o.system_prompt.empty()) msgs.push_back({"system", o.system_prompt});
        msgs.push_back({"user", kUserMarker});
        const std::string full = chat.format(msgs);
        const size_t at = full.find(kUserMarker);
        if (at == std::string::npos) {
            throw Error(ErrorCode::invalid_argument, "chat template dropped the user message");
        }
        head_ = chat.tokenize(full.substr(0, at));
        tail_ = model.tokenize(full.substr(at + std::string(kUserMarker).size()), false, true);
        stops_ = chat.stop_strings();
    }
    const Tokens& head() const { return head_; }
    Tokens context(const OutputPlan& o) const {
        return model_.tokenize(o.context + "\n\n", false, /*parse_special=*/false);
    }
    Tokens request(const OutputPlan& o, const std::string& messages) const {
        Tokens t = model_.tokenize(messages + o.request, false, /*parse_special=*/false);
        t.insert(t.end(), tail_.begin(), tail_.end());
        return t;
    }
    const std::vector<std::string>& stops() const { return stops_; }

private:
    const Model& model_;
    Tokens head_, tail_;
    std::vector<std::string> stops_;
};

Tokens concat(std::initializer_list<const Tokens*> parts) {
    Tokens out;
    for (const Tokens* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

int32_t round_up(int64_t n, int32_t to) {
    return static_cast<int32_t>((n + to - 1) / to * to);
}

struct Runner {
    const std::shared_ptr<const Model>& model;
    const Example& ex;
    const Plan& plan;
    const ExecutorOptions& opt;
    Prompts prompts;
    ConditionResult result;
    std::vector<std::pair<std::string, std::string>> finished;  // cluster id -> output text
    Clock::time_point t0 = Clock::now();                        // the condition's start
    Clock::time_point generate_start;  // start of the generate() call being recorded

    std::vector<GenerationResult> run(Session& s, std::vector<GenerationRequest>& reqs) {
        generate_start = Clock::now();
        GenerateStats st;
        auto g = generate(s, reqs, {}, &st);
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
        result.prefill_ms += s.prefill_ms;
        result.decode_ms += s.decode_ms;
        result.n_decode_calls += s.n_steps;
        for (const auto& r : reqs) result.n_prefill_tokens += static_cast<int64_t>(r.prompt.size());
    }

    std::string messages_for(const OutputPlan& o) const {
        return render_messages(ex, o.message_inputs, finished);
    }

    SessionOptions session_options(int64_t n_tokens, int32_t n_seqs) const {
        SessionOptions so;
        so.n_ctx = std::max(512, round_up(n_tokens + 64, 256));
        so.n_seq_max = n_seqs;
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
            longest = std::max<int64_t>(longest, static_cast<int64_t>(prompts.context(o).size()));
        }
        const int64_t budget =
            static_cast<int64_t>(prompts.head().size()) + longest +
            (opt.max_tokens + 64) * (static_cast<int64_t>(plan.outputs.size()) + 1) + 512;
        for (size_t i = 0; i < plan.outputs.size(); ++i) {
            const OutputPlan& o = plan.outputs[i];
            const Tokens ctx = prompts.context(o);
            const Tokens req = prompts.request(o, messages_for(o));
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

    void run_batched() {
        // Which contexts several outputs share (prefilled once, then forked).
        std::map<std::string, int> uses;
        for (const OutputPlan& o : plan.outputs) ++uses[o.context_key];
        int64_t budget = static_cast<int64_t>(prompts.head().size()) + 64;
        std::map<std::string, Tokens> ctx_tokens;
        for (const OutputPlan& o : plan.outputs) {
            if (!ctx_tokens.count(o.context_key)) {
                ctx_tokens[o.context_key] = prompts.context(o);
                budget += static_cast<int64_t>(ctx_tokens[o.context_key].size());
            }
            budget += opt.max_tokens * 2 + 128 + static_cast<int64_t>(o.request.size());
        }
        const auto n_seqs = static_cast<int32_t>(2 + uses.size() + plan.outputs.size());
        Session session(model, session_options(budget, n_seqs));
        result.kv_allocated_bytes = session.kv_allocated_bytes();
        result.n_sessions = 1;

        Sequence root = session.open();
        const DecodeStats head_stats = session.prefill({{&root, prompts.head()}});
        result.prefill_ms += head_stats.wall_ms;
        result.n_prefill_tokens += head_stats.n_tokens;

        // Shared contexts: fork the head, prefill every shared context in one call.
        std::map<std::string, Sequence> ctx_seq;
        std::vector<PrefillItem> items;
        for (const auto& [key, n] : uses) {
            if (n > 1) ctx_seq.emplace(key, session.fork(root));
        }
        for (auto& [key, seq] : ctx_seq) items.push_back({&seq, ctx_tokens[key]});
        if (!items.empty()) {
            const DecodeStats st = session.prefill(items);
            result.prefill_ms += st.wall_ms;
            result.n_prefill_tokens += st.n_tokens;
        }

        auto start = [&](const OutputPlan& o, std::vector<Sequence>& seqs, size_t i) {
            const bool shared = ctx_seq.count(o.context_key) > 0;
            seqs.push_back(session.fork(shared ? ctx_seq.at(o.context_key) : root));
            const Tokens req = prompts.request(o, messages_for(o));
            return shared ? req : concat({&ctx_tokens[o.context_key], &req});
            (void)i;
        };

        // Topic outputs: one prefill for all, lockstep decoding.
        {
            std::vector<Sequence> seqs;
            std::vector<const OutputPlan*> outs;
            std::vector<Tokens> prompts_;
            seqs.reserve(plan.outputs.size());
            for (size_t i = 0; i < plan.outputs.size(); ++i) {
                if (plan.outputs[i].kind != ClusterKind::topic) continue;
                prompts_.push_back(start(plan.outputs[i], seqs, i));
                outs.push_back(&plan.outputs[i]);
            }
            std::vector<GenerationRequest> reqs;
            for (size_t k = 0; k < outs.size(); ++k) {
                const size_t i_output = static_cast<size_t>(outs[k] - plan.outputs.data());
                reqs.push_back(request_for(&seqs[k], prompts_[k], i_output));
            }
            const auto g = run(session, reqs);
            for (size_t k = 0; k < outs.size(); ++k) record(*outs[k], g[k], seqs[k]);
        }  // topic sequences freed here

        // Synthesis outputs, in dependency order, each with its inputs as messages.
        for (size_t i = 0; i < plan.outputs.size(); ++i) {
            const OutputPlan& o = plan.outputs[i];
            if (o.kind != ClusterKind::synthesis) continue;
            std::vector<Sequence> seqs;
            const Tokens prompt = start(o, seqs, i);
            std::vector<GenerationRequest> reqs;
            reqs.push_back(request_for(&seqs[0], prompt, i));
            const auto g = run(session, reqs);
            record(o, g[0], seqs[0]);
        }
        result.kv_peak = session.kv_peak();
    }
};

}  // namespace

ConditionResult run_condition(const std::shared_ptr<const Model>& model, const Example& example,
                              const Plan& plan, const ExecutorOptions& options) {
    const auto t0 = Clock::now();
    Runner r{model, example, plan, options, Prompts(*model, options), {}, {}, t0, t0};
    r.result.condition = plan.condition;
    r.result.naive = options.naive;
    r.result.weights_bytes = model->info().weight_bytes;
    if (plan.condition == Condition::separate_contexts) {
        r.run_serial(/*own_session=*/true);
    } else if (options.naive) {
        r.run_serial(/*own_session=*/false);
    } else {
        r.run_batched();
    }
    r.result.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    // Report outputs in the plan's order.
    std::vector<OutputResult> ordered;
    for (const OutputPlan& o : plan.outputs) {
        for (OutputResult& out : r.result.outputs) {
            if (out.cluster_id == o.cluster_id) ordered.push_back(std::move(out));
        }
    }
    r.result.outputs = std::move(ordered);
    return r.result;
}

}  // namespace rdic
