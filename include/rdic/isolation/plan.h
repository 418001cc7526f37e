// Conditions -> plans: which text each output is generated from, as token-exact pieces.
//
//   rdic::Plan plan = rdic::make_plan(example, rdic::Condition::semantic, prompts);
//   for (const rdic::OutputPlan& o : plan.outputs) ... o.context, o.request ...
//
// Every output's prompt is  head + context + request(+messages) + tail, where `head` and `tail`
// come from the model's chat template around one user message. Outputs with the same
// `context_key` share head + context exactly, so an executor may prefill it once and fork.
// Pure functions of the example: no model, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic {

enum class Condition { sequential, prompted, turn_based, semantic, separate_contexts };
inline constexpr Condition kAllConditions[] = {Condition::sequential, Condition::prompted,
                                               Condition::turn_based, Condition::semantic,
                                               Condition::separate_contexts};
std::string_view to_string(Condition c);
// Throws rdic::Error(invalid_argument) naming the unknown condition.
Condition parse_condition(std::string_view name);

struct PromptOptions {
    bool name_topics = false;  // POC's topic-naming requests instead of neutral "output A"
    bool seed_compat = false;  // POC behaviour: baseline synthesis gets no topic outputs
};

struct OutputPlan {
    std::string cluster_id;
    ClusterKind kind = ClusterKind::topic;
    std::string context_key;                  // outputs with equal keys share head + context
    std::string context;                      // the user message's context block (turn texts)
    std::vector<std::string> message_inputs;  // clusters whose outputs precede the request
    std::string request;                      // what to generate
    std::vector<int32_t> turn_ids;            // the turns in `context`, in order (for tests)
};

struct Plan {
    Condition condition = Condition::semantic;
    std::vector<OutputPlan> outputs;  // topic outputs first, then synthesis in dependency order
};

Plan make_plan(const Example& example, Condition condition, const PromptOptions& options = {});

// The text that carries `inputs` (earlier outputs) into a synthesis request.
std::string render_messages(const Example& example, const std::vector<std::string>& inputs,
                            const std::vector<std::pair<std::string, std::string>>& outputs);

// "A", "B", ... for the i-th cluster of the example (its position in example.clusters).
std::string output_label(const Example& example, const std::string& cluster_id);

}  // namespace rdic
