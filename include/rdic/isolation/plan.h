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

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic {

// no_conversation is a control, not an isolation condition: no outputs, and every question asked
// with an empty context (no turns, no messages): what guessing from the question alone scores.
// Opt-in (`rdic run --conditions ...,no_conversation`); never a baseline in comparisons.
enum class Condition {
    sequential,
    prompted,
    turn_based,
    semantic,
    separate_contexts,
    no_conversation
};
inline constexpr Condition kAllConditions[] = {
    Condition::sequential, Condition::prompted,          Condition::turn_based,
    Condition::semantic,   Condition::separate_contexts, Condition::no_conversation};
std::string_view to_string(Condition c);
// Throws rdic::Error(invalid_argument) naming the unknown condition.
Condition parse_condition(std::string_view name);
// True for controls (no_conversation): conditions that generate no outputs.
bool is_control(Condition c);
// The same for a recorded condition name (records hold names); unknown names are not controls.
bool is_control_condition(std::string_view name);

struct PromptOptions {
    // The proof of concept's prompts: requests say "Generate output A ..." without naming the
    // topic, messages are labelled "Output A", and baseline syntheses get no topic outputs.
    // Default (false): every request names its topic and task (a fair test: a model cannot write
    // a topic's output if nothing says which topic is meant).
    bool seed_compat = false;
    bool questions = true;  // plan the example's fact questions (dataset v2) too
    // Question requests ask for the value only (default), or also offer "unknown" as an answer.
    // Chosen on the dev split (docs/evaluation.md, "Question wording").
    bool allow_unknown = false;
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

// A fact question, asked in the context the condition gives its topic: a topic question in that
// topic output's context (semantic: the topic's own turns; shared baselines: the whole
// conversation); a cross question in the context of a synthesis output that depends on all its
// topics, after that synthesis's messages (the topic outputs), as the synthesis would see them.
// no_conversation: every question (topic and cross) with an empty context and no messages.
struct QuestionPlan {
    std::string question_id;
    QuestionKind kind = QuestionKind::topic;
    std::string context_key;  // as OutputPlan::context_key: equal keys share head + context
    std::string context;
    std::vector<std::string> message_inputs;  // cross questions: the synthesis's inputs
    std::string request;                      // the question, naming its topic(s)
};

struct Plan {
    Condition condition = Condition::semantic;
    std::vector<OutputPlan> outputs;      // topic outputs first, then synthesis in dependency order
    std::vector<QuestionPlan> questions;  // the example's questions, in file order
    PromptOptions prompt_options;         // what make_plan was given (messages are rendered so)
};

Plan make_plan(const Example& example, Condition condition, const PromptOptions& options = {});

// The plans' conditions joined with commas, in order ("sequential,prompted"): progress and notes.
std::string condition_names(std::span<const Plan> plans);

// The text that carries `inputs` (earlier outputs) into a synthesis request: "Output for
// \"<topic name>\":" blocks (seed_compat: "Output A:").
std::string render_messages(const Example& example, const std::vector<std::string>& inputs,
                            const std::vector<std::pair<std::string, std::string>>& outputs,
                            const PromptOptions& options = {});

// The context block of `turns`: texts separated by blank lines; with `markers`, each prefixed
// "[Turn N] "; when any turn is the assistant's, each is labelled "User: " or "Assistant: ".
std::string render_turns(const std::vector<const Turn*>& turns, bool markers);

// Longest answer a question may get, in tokens.
inline constexpr int32_t kAnswerMaxTokens = 24;

// "A", "B", ... for the i-th cluster of the example (its position in example.clusters).
std::string output_label(const Example& example, const std::string& cluster_id);

}  // namespace rdic
