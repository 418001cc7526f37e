// libFuzzer: prompt formatting on the rdic side — every valid example (any format the loader
// accepts) planned under every condition, with and without the POC's wording and the "unknown"
// option, and the messages a synthesis would receive rendered. The chat template itself is
// llama.cpp's (the engine, not built here). Checked: no exception but rdic::Error; one output per
// cluster, topics before syntheses; a semantic topic output's context holds exactly its own turns.
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "rdic/datasets/example.h"
#include "rdic/error.h"
#include "rdic/isolation/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const rdic::LoadResult r = rdic::load_example(rdic::fuzz::as_file(data, size, ".json"));
    if (!r.example || !r.issues.empty()) return 0;
    const rdic::Example& ex = *r.example;
    for (const bool compat : {false, true}) {
        const rdic::PromptOptions o{.seed_compat = compat, .allow_unknown = compat};
        for (const rdic::Condition c : rdic::kAllConditions) {
            rdic::Plan plan;
            try {
                plan = rdic::make_plan(ex, c, o);
            } catch (const rdic::Error&) {
                continue;
            }
            if (rdic::is_control(c)) {  // no outputs; every question, with no context
                if (!plan.outputs.empty() || plan.questions.size() != ex.questions.size())
                    __builtin_trap();
                for (const rdic::QuestionPlan& q : plan.questions) {
                    if (!q.context.empty() || !q.message_inputs.empty()) __builtin_trap();
                }
                continue;
            }
            if (plan.outputs.size() != ex.clusters.size()) __builtin_trap();
            bool synthesis_seen = false;
            std::vector<std::pair<std::string, std::string>> done;
            for (const rdic::OutputPlan& out : plan.outputs) {
                if (out.kind == rdic::ClusterKind::synthesis) synthesis_seen = true;
                if (out.kind == rdic::ClusterKind::topic && synthesis_seen) __builtin_trap();
                (void)rdic::render_messages(ex, out.message_inputs, done, o);
                done.emplace_back(out.cluster_id, "output of " + out.cluster_id);
                if (c == rdic::Condition::semantic && out.kind == rdic::ClusterKind::topic) {
                    std::vector<const rdic::Turn*> own;
                    for (const rdic::Turn& t : ex.turns) {
                        if (t.cluster == out.cluster_id) own.push_back(&t);
                    }
                    if (out.context != rdic::render_turns(own, false)) __builtin_trap();
                }
            }
            for (const rdic::QuestionPlan& q : plan.questions) (void)q.request.size();
        }
    }
    return 0;
}
