#include "rdic/isolation/plan.h"

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
    }
    return "?";
}

Condition parse_condition(std::string_view name) {
    for (Condition c : kAllConditions) {
        if (to_string(c) == name) return c;
    }
    throw Error(ErrorCode::invalid_argument,
                "unknown condition '" + std::string(name) +
                    "' (expected sequential, prompted, turn_based, semantic, separate_contexts)");
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

namespace {

std::string join_turns(const std::vector<const Turn*>& turns, bool markers) {
    std::string out;
    for (const Turn* t : turns) {
        if (!out.empty()) out += "\n\n";
        if (markers) out += "[Turn " + std::to_string(t->id) + "] ";
        out += t->text;
    }
    return out;
}

std::string request_for(const Example& ex, const Cluster& c, const PromptOptions& o,
                        bool has_messages) {
    std::string what = o.name_topics ? "the " + (c.name.empty() ? c.id : c.name) + " output" +
                                           (c.task.empty() ? "" : " (" + c.task + ")")
                                     : "output " + output_label(ex, c.id);
    std::string r = "Generate " + what + " based on the provided context";
    if (has_messages) r += " and the outputs above";
    return r + ".";
}

}  // namespace

std::string render_messages(const Example& example, const std::vector<std::string>& inputs,
                            const std::vector<std::pair<std::string, std::string>>& outputs) {
    std::string out;
    for (const std::string& id : inputs) {
        for (const auto& [cluster, text] : outputs) {
            if (cluster != id) continue;
            out += "Output " + output_label(example, id) + ":\n" + text + "\n\n";
        }
    }
    return out;
}

Plan make_plan(const Example& ex, Condition condition, const PromptOptions& o) {
    Plan plan;
    plan.condition = condition;
    std::vector<const Turn*> all;
    for (const Turn& t : ex.turns) all.push_back(&t);
    const bool shared = condition == Condition::sequential || condition == Condition::prompted ||
                        condition == Condition::turn_based;
    std::string shared_context = join_turns(all, condition == Condition::turn_based);
    if (condition == Condition::prompted) {
        std::string names;
        for (const Cluster* c : ex.topics()) {
            if (!names.empty()) names += "; ";
            names += output_label(ex, c->id) + ": " + (c->name.empty() ? c->id : c->name);
        }
        shared_context = "This conversation covers separate topics (" + names +
                         "). Keep the topics separate: when asked for one output, use only the "
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
            out.context = join_turns(own, false);
            for (const Turn* t : own) out.turn_ids.push_back(t->id);
        }
        out.request = request_for(ex, c, o, !out.message_inputs.empty());
        plan.outputs.push_back(std::move(out));
    }
    return plan;
}

}  // namespace rdic
