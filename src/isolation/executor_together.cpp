// Several plans of one example in one Session (run_conditions_together, check_together) and the
// batched group runner that run_condition uses for one plan.
#include <algorithm>
#include <chrono>
#include <map>

#include "executor_runner.h"
#include "rdic/error.h"
#include "rdic/isolation/executor.h"
#include "rdic/isolation/together.h"

namespace rdic {

namespace executor_detail {

// Batched execution of one or more plans of the same example in one Session. With one plan this
// is the default execution; with several, every phase is shared across plans: one prefill for all
// shared contexts, one lockstep batch for all topic outputs, then the synthesis outputs of all
// plans together (the k-th synthesis of every plan in round k, so dependency order holds).
struct PlanState {
    std::map<std::string, int> uses;  // context key -> outputs using it (>1: prefill once)
    std::map<std::string, Tokens> ctx_tokens;
};

// The one Session a group of plans runs in: its size, its sequences and its KV layout.
struct GroupSession {
    std::vector<PlanState> ps;  // per plan
    int64_t budget = 0;         // KV cells (per_sequence: of the longest stream)
    int32_t n_seqs = 0;         // n_seq_max
    KvLayout layout = KvLayout::unified;
};

GroupSession size_group(const std::vector<Runner*>& rs) {
    GroupSession g;
    std::vector<PlanState>& ps = g.ps;
    ps.resize(rs.size());
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
    g.budget = budget;
    g.n_seqs = n_seqs;
    g.layout = layout;
    return g;
}

void run_batched_group(const std::vector<Runner*>& rs) {
    GroupSession group = size_group(rs);
    std::vector<PlanState>& ps = group.ps;
    const KvLayout layout = group.layout;
    const Runner& first = *rs.front();
    Session session(first.model, first.session_options(group.budget, group.n_seqs, layout));
    for (Runner* r : rs) {
        r->result.kv_allocated_bytes = session.kv_allocated_bytes();
        r->result.n_sessions = 1;
        r->result.kv_layout = layout;
    }
    // A shared call's time counts in every plan's result (the plans wait for it together); its
    // tokens only where the plan needs them, so that n_prefill_tokens is what the plan computes
    // alone: the head in every plan, a plan's own shared contexts in that plan.
    auto add_shared = [&](const DecodeStats& st, const std::vector<int64_t>& n_tokens) {
        for (size_t p = 0; p < rs.size(); ++p) {
            rs[p]->result.prefill_ms += st.wall_ms;
            rs[p]->result.n_prefill_tokens += n_tokens[p];
        }
    };

    Sequence root = session.open();
    {
        const DecodeStats st = session.prefill({{&root, first.prompts.head()}});
        add_shared(st, std::vector<int64_t>(rs.size(), st.n_tokens));
    }

    // Shared contexts: fork the head, prefill every plan's shared contexts in one call.
    std::vector<std::map<std::string, Sequence>> ctx_seq(rs.size());
    std::vector<PrefillItem> items;
    std::vector<int64_t> n_ctx_tokens(rs.size(), 0);
    for (size_t p = 0; p < rs.size(); ++p) {
        for (const auto& [key, n] : ps[p].uses) {
            if (n > 1) ctx_seq[p].emplace(key, session.fork(root));
        }
        for (auto& [key, seq] : ctx_seq[p]) {
            items.push_back({&seq, ps[p].ctx_tokens[key]});
            n_ctx_tokens[p] += static_cast<int64_t>(ps[p].ctx_tokens[key].size());
        }
    }
    if (!items.empty()) add_shared(session.prefill(items), n_ctx_tokens);

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

}  // namespace executor_detail

using namespace executor_detail;

KvLayout batched_layout(const Plan& plan, const ExecutorOptions& options) {
    std::map<std::string, int> uses;
    bool shared = false;
    for (const OutputPlan& o : plan.outputs) shared = shared || ++uses[o.context_key] > 1;
    return options.kv_layout.value_or(shared ? KvLayout::unified : KvLayout::per_sequence);
}

std::string why_condition_runs_alone(Condition c) {
    if (c == Condition::separate_contexts) return "separate_contexts needs contexts of its own";
    if (is_control(c)) return std::string(to_string(c)) + " is a control without outputs";
    return "";
}

std::string check_together(const std::shared_ptr<const Model>& model, const Example& example,
                           std::span<const Plan> plans, const ExecutorOptions& options) {
    if (options.naive) return "naive execution runs every output alone";
    if (plans.empty()) return "";
    const auto t0 = Clock::now();
    const PromptBuilder prompts(*model, options.system_prompt, options.chat_template);
    std::vector<Runner> runners;
    runners.reserve(plans.size());
    for (const Plan& plan : plans) {
        if (std::string why = why_condition_runs_alone(plan.condition); !why.empty()) return why;
        if (std::string why = check_limits(*model, example, plan, options); !why.empty()) {
            return why;
        }
        runners.push_back(Runner{model, example, plan, options, prompts, {}, {}, t0, t0});
    }
    std::vector<Runner*> rs;
    for (Runner& r : runners) rs.push_back(&r);
    const GroupSession g = size_group(rs);
    const int64_t n_cells = Runner::session_cells(g.budget, g.n_seqs, g.layout);
    const ModelInfo& info = model->info();
    const uint64_t per_cell = info.kv_bytes_per_token_full(options.type_k, options.type_v) +
                              info.kv_bytes_per_token_swa(options.type_k, options.type_v);
    return together_refusal({.n_sequences = g.n_seqs,
                             .n_kv_cells = n_cells,
                             .kv_bytes = per_cell * static_cast<uint64_t>(n_cells)},
                            {.max_sequences = kMaxSessionSequences,
                             .max_kv_cells = INT32_MAX,
                             .max_kv_bytes = options.together_max_kv_bytes});
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
        if (std::string why = why_condition_runs_alone(plan.condition); !why.empty()) {
            throw Error(ErrorCode::invalid_argument,
                        std::string(to_string(plan.condition)) +
                            " cannot run together with other conditions: " + why);
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
        for (const Plan& other : plans) {
            if (&other != &r.plan) r.result.together_with.push_back(other.condition);
        }
        order_outputs(r.plan, r.result);
        r.answer_questions();
        out.push_back(std::move(r.result));
    }
    return out;
}

}  // namespace rdic
