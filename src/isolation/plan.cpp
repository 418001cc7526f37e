#include "rdic/isolation/plan.h"

#include <algorithm>

#include "rdic/error.h"

namespace rdic {

std::string_view to_string(Condition c) {
    switch (c) {
        case Condition::sequential:
            return "sequential";
        case Condition::prompted:
            return "prompted";
        case Condition::turn_based:
            return "turn_based";
        case Condition::semantic:
            return "semantic";
        case Condition::separate_contexts:
            return "separate_contexts";
        case Condition::no_conversation:
            return "no_conversation";
    }
    return "?";
}

bool is_control(Condition c) {
    return c == Condition::no_conversation;
}

bool is_control_condition(std::string_view name) {
    for (Condition c : kAllConditions) {
        if (to_string(c) == name) return is_control(c);
    }
    return false;
}

Condition parse_condition(std::string_view name) {
    for (Condition c : kAllConditions) {
        if (to_string(c) == name) return c;
    }
    std::string expected;
    for (Condition c : kAllConditions) {
        if (!expected.empty()) expected += ", ";
        expected += to_string(c);
    }
    throw Error(ErrorCode::invalid_argument,
                "unknown condition '" + std::string(name) + "' (expected " + expected + ")");
}

std::string output_label(const Example& example, const std::string& cluster_id) {
    for (size_t i = 0; i < example.clusters.size(); ++i) {
        if (example.clusters[i].id == cluster_id) {
            if (i < 26) return std::string(1, static_cast<char>('A' + i));
            std::string label = "C";
            label += std::to_string(i + 1);
            return label;
        }
    }
    return "?";
}

std::string render_turns(const std::vector<const Turn*>& turns, bool markers) {
    const bool roles = std::any_of(turns.begin(), turns.end(),
                                   [](const Turn* t) { return t->role == TurnRole::assistant; });
    std::string out;
    for (const Turn* t : turns) {
        if (!out.empty()) out += "\n\n";
        if (markers) out += "[Turn " + std::to_string(t->id) + "] ";
        if (roles) out += t->role == TurnRole::assistant ? "Assistant: " : "User: ";
        out += t->text;
    }
    return out;
}

namespace {

std::string name_of(const Cluster& c) {
    return c.name.empty() ? c.id : c.name;
}

std::string quoted_name(const Example& ex, const std::string& cluster_id) {
    const Cluster* c = ex.find(cluster_id);
    return "\"" + (c != nullptr ? name_of(*c) : cluster_id) + "\"";
}

// Chosen on the dev split (docs/evaluation.md): the topic's name and task, nothing else.
std::string request_for(const Example& ex, const Cluster& c, const PromptOptions& o,
                        bool has_messages) {
    if (o.seed_compat) {
        std::string r =
            "Generate output " + output_label(ex, c.id) + " based on the provided context";
        if (has_messages) r += " and the outputs above";
        return r + ".";
    }
    std::string r = c.kind == ClusterKind::synthesis
                        ? "Now the combined output \"" + name_of(c) + "\"."
                        : "Now the output for the topic \"" + name_of(c) + "\".";
    if (!c.task.empty()) r += " " + c.task;
    if (has_messages) r += " Base it on the outputs above.";
    return r;
}

std::string question_request(const Example& ex, const Question& q, bool allow_unknown) {
    std::string about;
    if (q.kind == QuestionKind::topic) {
        about = "the topic " + quoted_name(ex, q.cluster);
    } else {
        about = "the topics ";
        for (size_t i = 0; i < q.clusters.size(); ++i) {
            if (i > 0) about += i + 1 == q.clusters.size() ? " and " : ", ";
            about += quoted_name(ex, q.clusters[i]);
        }
    }
    return "Question about " + about + ": " + q.text +
           (allow_unknown ? "\nAnswer with the value only, in a few words. If the conversation "
                            "does not say, answer \"unknown\"."
                          : "\nAnswer with the value only, in a few words.");
}

// The synthesis output a cross question is asked after: the first that depends on all of its
// topics, else the first synthesis.
const OutputPlan* synthesis_for(const Plan& plan, const Example& ex, const Question& q) {
    const OutputPlan* first = nullptr;
    for (const OutputPlan& o : plan.outputs) {
        if (o.kind != ClusterKind::synthesis) continue;
        if (first == nullptr) first = &o;
        const Cluster* c = ex.find(o.cluster_id);
        const bool covers =
            c != nullptr &&
            std::all_of(q.clusters.begin(), q.clusters.end(), [&](const std::string& id) {
                return std::find(c->depends_on.begin(), c->depends_on.end(), id) !=
                       c->depends_on.end();
            });
        if (covers) return &o;
    }
    return first;
}

}  // namespace

std::string render_messages(const Example& example, const std::vector<std::string>& inputs,
                            const std::vector<std::pair<std::string, std::string>>& outputs,
                            const PromptOptions& options) {
    std::string out;
    for (const std::string& id : inputs) {
        for (const auto& [cluster, text] : outputs) {
            if (cluster != id) continue;
            out += options.seed_compat ? "Output " + output_label(example, id) + ":\n"
                                       : "Output for " + quoted_name(example, id) + ":\n";
            out += text + "\n\n";
        }
    }
    return out;
}

Plan make_plan(const Example& ex, Condition condition, const PromptOptions& o) {
    Plan plan;
    plan.condition = condition;
    plan.prompt_options = o;
    if (condition == Condition::no_conversation) {
        // The control: no outputs; every question (cross ones too) from the question alone.
        if (!o.questions) return plan;
        for (const Question& q : ex.questions) {
            QuestionPlan qp;
            qp.question_id = q.id;
            qp.kind = q.kind;
            qp.context_key = "none";
            qp.request = question_request(ex, q, o.allow_unknown);
            plan.questions.push_back(std::move(qp));
        }
        return plan;
    }
    std::vector<const Turn*> all;
    for (const Turn& t : ex.turns) all.push_back(&t);
    const bool shared = condition == Condition::sequential || condition == Condition::prompted ||
                        condition == Condition::turn_based;
    std::string shared_context = render_turns(all, condition == Condition::turn_based);
    if (condition == Condition::prompted) {
        // Names only: v2 datasets keep topic names free of terminology, so a model echoing this
        // preamble does not plant one topic's terms in another's output.
        std::string names;
        for (const Cluster* c : ex.topics()) {
            if (!names.empty()) names += "; ";
            names += o.seed_compat ? output_label(ex, c->id) + ": " + name_of(*c)
                                   : quoted_name(ex, c->id);
        }
        shared_context = "This conversation covers separate topics (" + names +
                         "). Keep the topics separate: when asked about one topic, use only the "
                         "parts of the conversation about that topic.\n\n" +
                         shared_context;
    }
    for (const Cluster& c : ex.clusters) {
        OutputPlan out;
        out.cluster_id = c.id;
        out.kind = c.kind;
        const bool synth = c.kind == ClusterKind::synthesis;
        if (synth && !(shared && o.seed_compat)) out.message_inputs = c.depends_on;
        if (shared) {
            out.context_key = "all";
            out.context = shared_context;
            for (const Turn* t : all) out.turn_ids.push_back(t->id);
        } else {
            const auto own = ex.turns_of(c.id);
            out.context_key = c.id;
            out.context = render_turns(own, false);
            for (const Turn* t : own) out.turn_ids.push_back(t->id);
        }
        out.request = request_for(ex, c, o, !out.message_inputs.empty());
        plan.outputs.push_back(std::move(out));
    }
    if (!o.questions) return plan;
    for (const Question& q : ex.questions) {
        const OutputPlan* where = nullptr;
        if (q.kind == QuestionKind::topic) {
            for (const OutputPlan& out : plan.outputs) {
                if (out.cluster_id == q.cluster) where = &out;
            }
        } else {
            where = synthesis_for(plan, ex, q);
        }
        if (where == nullptr) continue;  // a question about a cluster the plan does not have
        QuestionPlan qp;
        qp.question_id = q.id;
        qp.kind = q.kind;
        qp.context_key = where->context_key;
        qp.context = where->context;
        if (q.kind == QuestionKind::cross) qp.message_inputs = where->message_inputs;
        qp.request = question_request(ex, q, o.allow_unknown);
        plan.questions.push_back(std::move(qp));
    }
    return plan;
}

std::string condition_names(std::span<const Plan> plans) {
    std::string names;
    for (const Plan& p : plans)
        names += (names.empty() ? "" : ",") + std::string(to_string(p.condition));
    return names;
}

}  // namespace rdic
