// Plans: for each condition, exactly which turns each output's sequence holds, in which order,
// and which outputs a synthesis receives as messages.
#include <gtest/gtest.h>

#include "rdic/error.h"
#include "rdic/isolation/plan.h"

namespace rdic {
namespace {

// Two topics interleaved (a: turns 1,3,5; b: 2,4) and a synthesis (turn 6).
Example interleaved_example() {
    Example ex;
    ex.id = "t-1";
    ex.source_format = "rdic.dataset/v1";
    auto cluster = [](std::string id, ClusterKind kind, std::string name, std::string task) {
        Cluster c;
        c.id = std::move(id);
        c.kind = kind;
        c.name = std::move(name);
        c.task = std::move(task);
        return c;
    };
    Cluster a = cluster("a", ClusterKind::topic, "Database", "Plan it.");
    a.terminology = {"index"};
    Cluster b = cluster("b", ClusterKind::topic, "Hiring", "Hire.");
    b.terminology = {"candidate"};
    Cluster s = cluster("s", ClusterKind::synthesis, "Memo", "Combine.");
    s.depends_on = {"a", "b"};
    ex.clusters = {a, b, s};
    const char* owners[] = {"a", "b", "a", "b", "a", "s"};
    for (int i = 0; i < 6; ++i) {
        Turn t;
        t.id = i + 1;
        t.cluster = owners[i];
        t.text = "turn " + std::to_string(i + 1);
        ex.turns.push_back(t);
    }
    return ex;
}

const OutputPlan& output(const Plan& p, const std::string& cluster) {
    for (const auto& o : p.outputs) {
        if (o.cluster_id == cluster) return o;
    }
    throw std::runtime_error("no output for " + cluster);
}

TEST(Plan, SharedContextConditionsSeeEveryTurnInOrder) {
    const Example ex = interleaved_example();
    for (Condition c : {Condition::sequential, Condition::prompted, Condition::turn_based}) {
        const Plan p = make_plan(ex, c);
        ASSERT_EQ(p.outputs.size(), 3u) << to_string(c);
        for (const auto& o : p.outputs) {
            EXPECT_EQ(o.turn_ids, (std::vector<int32_t>{1, 2, 3, 4, 5, 6})) << to_string(c);
            EXPECT_EQ(o.context_key, "all") << "one shared context, prefilled once";
        }
        EXPECT_TRUE(output(p, "a").message_inputs.empty());
        EXPECT_EQ(output(p, "s").message_inputs, (std::vector<std::string>{"a", "b"}))
            << "fair synthesis: topic outputs arrive as messages in every condition";
    }
}

TEST(Plan, ContextTextPerCondition) {
    const Example ex = interleaved_example();
    EXPECT_EQ(output(make_plan(ex, Condition::sequential), "a").context,
              "turn 1\n\nturn 2\n\nturn 3\n\nturn 4\n\nturn 5\n\nturn 6");
    EXPECT_EQ(output(make_plan(ex, Condition::turn_based), "a").context,
              "[Turn 1] turn 1\n\n[Turn 2] turn 2\n\n[Turn 3] turn 3\n\n[Turn 4] turn 4\n\n"
              "[Turn 5] turn 5\n\n[Turn 6] turn 6");
    const std::string prompted = output(make_plan(ex, Condition::prompted), "b").context;
    EXPECT_EQ(prompted.find("This conversation covers separate topics (\"Database\"; \"Hiring\"). "
                            "Keep the topics separate"),
              0u)
        << prompted;
    EXPECT_TRUE(prompted.ends_with("turn 5\n\nturn 6"));
}

TEST(Plan, SemanticIsolatesEachClustersTurns) {
    const Example ex = interleaved_example();
    for (Condition c : {Condition::semantic, Condition::separate_contexts}) {
        const Plan p = make_plan(ex, c);
        EXPECT_EQ(output(p, "a").turn_ids, (std::vector<int32_t>{1, 3, 5})) << to_string(c);
        EXPECT_EQ(output(p, "b").turn_ids, (std::vector<int32_t>{2, 4})) << to_string(c);
        EXPECT_EQ(output(p, "s").turn_ids, (std::vector<int32_t>{6})) << to_string(c);
        EXPECT_EQ(output(p, "a").context, "turn 1\n\nturn 3\n\nturn 5");
        EXPECT_EQ(output(p, "a").context_key, "a");
        EXPECT_EQ(output(p, "b").context_key, "b");
        EXPECT_EQ(output(p, "s").message_inputs, (std::vector<std::string>{"a", "b"}));
    }
}

TEST(Plan, TopicOutputsComeBeforeSynthesis) {
    const Plan p = make_plan(interleaved_example(), Condition::semantic);
    ASSERT_EQ(p.outputs.size(), 3u);
    EXPECT_EQ(p.outputs[0].kind, ClusterKind::topic);
    EXPECT_EQ(p.outputs[1].kind, ClusterKind::topic);
    EXPECT_EQ(p.outputs[2].kind, ClusterKind::synthesis);
}

TEST(Plan, RequestsNameTheirTopicByDefaultPocWordingUnderSeedCompat) {
    const Example ex = interleaved_example();
    const Plan named = make_plan(ex, Condition::sequential);
    EXPECT_EQ(output(named, "b").request, "Now the output for the topic \"Hiring\". Hire.");
    const std::string synth = output(named, "s").request;
    EXPECT_EQ(synth.rfind("Now the combined output \"", 0), 0u) << synth;
    EXPECT_NE(synth.find(" Base it on the outputs above."), std::string::npos) << synth;
    // Identical across conditions: only the context differs.
    EXPECT_EQ(output(make_plan(ex, Condition::semantic), "a").request, output(named, "a").request);
    const Plan poc = make_plan(ex, Condition::sequential, {.seed_compat = true});
    EXPECT_EQ(output(poc, "a").request, "Generate output A based on the provided context.");
    EXPECT_EQ(output(make_plan(ex, Condition::semantic, {.seed_compat = true}), "s").request,
              "Generate output C based on the provided context and the outputs above.");
}

TEST(Plan, PromptedPreambleNamesTopicsOnly) {
    const Example ex = interleaved_example();
    const std::string ctx = output(make_plan(ex, Condition::prompted), "a").context;
    EXPECT_EQ(ctx.rfind("This conversation covers separate topics (\"", 0), 0u) << ctx;
    EXPECT_NE(ctx.find("\"Hiring\""), std::string::npos) << ctx;
}

TEST(Plan, AssistantTurnsLabelTheTranscript) {
    Example ex = interleaved_example();
    const std::string plain = output(make_plan(ex, Condition::semantic), "a").context;
    EXPECT_EQ(plain.find("User: "), std::string::npos);
    Turn reply = ex.turns.front();
    reply.id = 99;
    reply.role = TurnRole::assistant;
    reply.text = "Noted.";
    ex.turns.insert(ex.turns.begin() + 1, reply);
    const std::string labelled = output(make_plan(ex, Condition::semantic), "a").context;
    EXPECT_EQ(labelled.rfind("User: ", 0), 0u) << labelled;
    EXPECT_NE(labelled.find("\n\nAssistant: Noted.\n\nUser: "), std::string::npos) << labelled;
}

// interleaved_example() with a topic question about "b" and a cross question about a and b.
Example example_with_questions() {
    Example ex = interleaved_example();
    Question q;
    q.id = "q1";
    q.cluster = "b";
    q.text = "Who is the account manager?";
    q.answers = {"Ann"};
    Question x;
    x.id = "x1";
    x.kind = QuestionKind::cross;
    x.clusters = {"a", "b"};
    x.text = "Which is larger?";
    x.answers = {"B"};
    ex.questions = {q, x};
    return ex;
}

TEST(Plan, QuestionsAskedInTheContextTheConditionGivesTheTopic) {
    const Example ex = example_with_questions();
    const Plan sem = make_plan(ex, Condition::semantic);
    ASSERT_EQ(sem.questions.size(), 2u);
    EXPECT_EQ(sem.questions[0].context_key, "b");
    EXPECT_EQ(sem.questions[0].context, output(sem, "b").context);
    EXPECT_TRUE(sem.questions[0].message_inputs.empty());
    EXPECT_EQ(sem.questions[0].request.rfind("Question about the topic \"Hiring\": Who is", 0), 0u)
        << sem.questions[0].request;
    EXPECT_EQ(sem.questions[1].context_key, "s");
    EXPECT_EQ(sem.questions[1].message_inputs, (std::vector<std::string>{"a", "b"}));
    EXPECT_NE(sem.questions[1].request.find("\" and \"Hiring\": Which is larger?"),
              std::string::npos)
        << sem.questions[1].request;
    const Plan seq = make_plan(ex, Condition::sequential);
    EXPECT_EQ(seq.questions[0].context_key, "all");
    EXPECT_EQ(seq.questions[0].request, sem.questions[0].request);
    EXPECT_TRUE(make_plan(ex, Condition::semantic, {.questions = false}).questions.empty());
    // The answer instruction: the value only by default (chosen on dev); "unknown" on request.
    const std::string value_only = sem.questions[0].request;
    EXPECT_NE(value_only.find("\nAnswer with the value only, in a few words."), std::string::npos);
    EXPECT_EQ(value_only.find("unknown"), std::string::npos) << value_only;
    const Plan offered = make_plan(ex, Condition::semantic, {.allow_unknown = true});
    EXPECT_NE(offered.questions[0].request.find("If the conversation does not say, answer "
                                                "\"unknown\"."),
              std::string::npos)
        << offered.questions[0].request;
}

TEST(Plan, NoConversationControlAsksEveryQuestionWithNoContext) {
    const Example ex = example_with_questions();
    for (const PromptOptions& o : {PromptOptions{}, PromptOptions{.allow_unknown = true}}) {
        const Plan none = make_plan(ex, Condition::no_conversation, o);
        const Plan sem = make_plan(ex, Condition::semantic, o);
        EXPECT_EQ(none.condition, Condition::no_conversation);
        EXPECT_TRUE(none.outputs.empty());
        ASSERT_EQ(none.questions.size(), ex.questions.size());  // topic and cross alike
        for (size_t i = 0; i < none.questions.size(); ++i) {
            const QuestionPlan& q = none.questions[i];
            EXPECT_EQ(q.question_id, ex.questions[i].id);
            EXPECT_EQ(q.kind, ex.questions[i].kind);
            EXPECT_TRUE(q.context.empty()) << q.context;
            EXPECT_TRUE(q.message_inputs.empty());
            // The same wording as every other condition asks with.
            EXPECT_EQ(q.request, sem.questions[i].request);
        }
        EXPECT_EQ(none.questions[0].context_key, none.questions[1].context_key);
    }
    EXPECT_TRUE(make_plan(ex, Condition::no_conversation, {.questions = false}).questions.empty());
    EXPECT_TRUE(is_control(Condition::no_conversation));
    EXPECT_TRUE(is_control_condition("no_conversation"));
    for (Condition c : kAllConditions) {
        if (c == Condition::no_conversation) continue;
        EXPECT_FALSE(is_control(c)) << to_string(c);
        EXPECT_FALSE(is_control_condition(to_string(c)));
        EXPECT_FALSE(make_plan(ex, c).outputs.empty()) << to_string(c);
    }
    EXPECT_FALSE(is_control_condition("copy_own"));  // the copy control has outputs
    EXPECT_FALSE(is_control_condition("unknown"));
}

TEST(Plan, SeedCompatDropsMessagesFromBaselineSynthesisOnly) {
    const Example ex = interleaved_example();
    const PromptOptions compat{.seed_compat = true};
    EXPECT_TRUE(output(make_plan(ex, Condition::sequential, compat), "s").message_inputs.empty());
    EXPECT_EQ(output(make_plan(ex, Condition::semantic, compat), "s").message_inputs,
              (std::vector<std::string>{"a", "b"}));
}

TEST(Plan, RenderMessagesInDependencyOrder) {
    const Example ex = interleaved_example();
    EXPECT_EQ(render_messages(ex, {"a", "b"}, {{"b", "hire two"}, {"a", "add an index"}},
                              {.seed_compat = true}),
              "Output A:\nadd an index\n\nOutput B:\nhire two\n\n");
    EXPECT_EQ(render_messages(ex, {"b"}, {{"b", "hire two"}}),
              "Output for \"Hiring\":\nhire two\n\n");
}

TEST(Plan, ConditionNames) {
    for (Condition c : kAllConditions) EXPECT_EQ(parse_condition(to_string(c)), c);
    EXPECT_EQ(parse_condition("no_conversation"), Condition::no_conversation);
    try {
        parse_condition("isolated");
        ADD_FAILURE() << "no error for an unknown condition";
    } catch (const Error& e) {
        // The message lists every condition, from the one table.
        for (Condition c : kAllConditions) {
            EXPECT_NE(std::string(e.what()).find(to_string(c)), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace rdic
