// Dataset format rdic.dataset/v2: every field read, every v2 rule reported as file + JSON
// pointer + exact message on a mutation of one valid example, v1 rules unchanged for v1 files,
// no mutated v2 file crashes the loader, the shipped long variants are valid.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rdic/datasets/example.h"
#include "support/dataset_test_helpers.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using rdic::ClusterKind;
using rdic::Example;
using rdic::Issue;
using rdic::LoadResult;
using rdic::Question;
using rdic::QuestionKind;
using rdic::TurnRole;
using rdic::TurnType;

const fs::path kTestData = RDIC_TEST_DATA_DIR;
const fs::path kData = RDIC_DATA_DIR;
const fs::path kFixture = kTestData / "native_v2_small.json";

using Strings = std::vector<std::string>;

// ---- helpers ------------------------------------------------------------------------------------

using rdic::test::describe;
using rdic::test::edited;
using rdic::test::Edits;
using rdic::test::read_bytes;
using rdic::test::TempDir;

struct Expected {
    std::string pointer;
    std::string message;
};

// Exactly the expected issues, all for `file`.
void expect_exactly(const std::vector<Issue>& issues, const fs::path& file,
                    const std::vector<Expected>& expected) {
    for (const Expected& e : expected) {
        const bool found = std::any_of(issues.begin(), issues.end(), [&](const Issue& i) {
            return i.file == file && i.pointer == e.pointer && i.message == e.message;
        });
        EXPECT_TRUE(found) << "expected issue: " << e.pointer << ": " << e.message
                           << "\nreported:" << describe(issues);
    }
    EXPECT_EQ(issues.size(), expected.size()) << "reported:" << describe(issues);
}

LoadResult load_text(const TempDir& dir, const std::string& text) {
    return rdic::load_example(dir.write("x.json", text));
}

// Lines of the fixture that several cases edit or remove.
const std::string kFixtureText = read_bytes(kFixture);
const std::string kQuestionDbCode =
    R"({"id": "db-code", "kind": "topic", "cluster": "db", "answer_type": "code", )"
    R"("text": "What is the reference code?", "answers": ["DBM-4471"]})";
const std::string kQuestionCross =
    R"({"id": "x-total", "kind": "cross", "clusters": ["db", "hiring"], )"
    R"("answer_type": "number", "text": "What do the two budgets add up to?", )"
    R"("answers": ["59,600"]})";
const std::string kTurn1Head = R"({"id": 1, "cluster": "db", "type": "context",)";
const std::string kTurn2Role = R"("role": "assistant", "type": "context")";
const std::string kLastTurn = R"("text": "Now combine both into one quarter plan."})";
const std::string kDbBudgetLure = R"({"cluster": "hiring", "answers": ["47,200"]})";

// The fixture with everything from the questions array on replaced by `questions` (JSON).
std::string with_questions(const std::string& questions) {
    const size_t at = kFixtureText.find(R"("questions":)");
    return kFixtureText.substr(0, at) + R"("questions": )" + questions + "\n}\n";
}

// A valid v1 document.
const std::string kV1 =
    R"({"format": "rdic.dataset/v1", "id": "mini-01", "domain": "testing", "clusters": [)"
    R"({"id": "a", "kind": "topic", "terminology": ["alpha"]},)"
    R"({"id": "b", "kind": "topic", "terminology": ["beta"]},)"
    R"({"id": "s", "kind": "synthesis", "depends_on": ["a", "b"]}], "turns": [)"
    R"({"id": 1, "cluster": "a", "type": "context", "text": "Alpha notes."},)"
    R"({"id": 2, "cluster": "b", "type": "context", "text": "Beta notes."},)"
    R"({"id": 3, "cluster": "s", "type": "query", "text": "Combine."}]})";

// ---- 1. a valid v2 example, every field ---------------------------------------------------------

TEST(DatasetV2Load, ReadsEveryField) {
    const LoadResult r = rdic::load_example(kFixture);
    ASSERT_TRUE(r.example.has_value()) << describe(r.issues);
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    const Example& ex = *r.example;

    EXPECT_EQ(ex.source_format, "rdic.dataset/v2");
    EXPECT_EQ(ex.id, "unit-v2-01-long");
    EXPECT_EQ(ex.domain, "software_engineering");
    EXPECT_EQ(ex.split, "test");
    EXPECT_EQ(ex.order, "block");
    EXPECT_EQ(ex.length, "long");
    EXPECT_EQ(ex.variant_of, "unit-v2-01");
    EXPECT_EQ(ex.description,
              "A platform lead plans a database migration and a hiring round, then a quarter "
              "plan.");
    EXPECT_EQ(ex.shared_entities, (Strings{"Halden Supplies"}));

    ASSERT_EQ(ex.clusters.size(), 3u);
    EXPECT_EQ(ex.clusters[0].id, "db");
    EXPECT_EQ(ex.clusters[0].name, "Database migration");
    EXPECT_EQ(ex.clusters[0].canaries, (Strings{"DBM-4471"}));
    EXPECT_EQ(ex.clusters[1].id, "hiring");
    EXPECT_EQ(ex.clusters[1].terminology,
              (Strings{"phone screen", "take-home exercise", "hiring panel"}));
    EXPECT_EQ(ex.clusters[2].id, "plan");
    EXPECT_EQ(ex.clusters[2].kind, ClusterKind::synthesis);
    EXPECT_EQ(ex.clusters[2].depends_on, (Strings{"db", "hiring"}));

    struct ExpectedTurn {
        int32_t id;
        const char* cluster;
        TurnType type;
        TurnRole role;
        const char* text_start;
    };
    const ExpectedTurn turns[] = {
        {1, "db", TurnType::context, TurnRole::user, "We move PostgreSQL 13"},
        {2, "db", TurnType::context, TurnRole::assistant, "Noted: GBP 12,400"},
        {3, "db", TurnType::instruction, TurnRole::user, "The deadline is 14 March."},
        {4, "hiring", TurnType::context, TurnRole::user, "Next, two engineers"},
        {5, "hiring", TurnType::instruction, TurnRole::user, "The deadline is 2 May."},
        // An assistant turn without a type is context.
        {6, "hiring", TurnType::context, TurnRole::assistant, "Understood: HR-2291"},
        {7, "plan", TurnType::query, TurnRole::user, "Now combine both"},
    };
    ASSERT_EQ(ex.turns.size(), std::size(turns));
    for (size_t i = 0; i < std::size(turns); ++i) {
        SCOPED_TRACE("turn index " + std::to_string(i));
        EXPECT_EQ(ex.turns[i].id, turns[i].id);
        EXPECT_EQ(ex.turns[i].cluster, turns[i].cluster);
        EXPECT_EQ(ex.turns[i].type, turns[i].type);
        EXPECT_EQ(ex.turns[i].role, turns[i].role);
        EXPECT_TRUE(ex.turns[i].text.starts_with(turns[i].text_start)) << ex.turns[i].text;
    }
    EXPECT_EQ(ex.turns[5].text,
              "Understood: HR-2291 with GBP 47,200 and Tomas Brandt leading, a hiring panel by "
              "2 May.");

    ASSERT_EQ(ex.questions.size(), 8u);
    const Question& budget = ex.questions[0];
    EXPECT_EQ(budget.id, "db-budget");
    EXPECT_EQ(budget.kind, QuestionKind::topic);
    EXPECT_EQ(budget.cluster, "db");
    EXPECT_TRUE(budget.clusters.empty());
    EXPECT_EQ(budget.text, "What is the budget?");
    EXPECT_EQ(budget.answer_type, "number");
    EXPECT_EQ(budget.answers, (Strings{"12,400"}));
    ASSERT_EQ(budget.lures.size(), 1u);
    EXPECT_EQ(budget.lures[0].cluster, "hiring");
    EXPECT_EQ(budget.lures[0].answers, (Strings{"47,200"}));

    const Question& lead = ex.questions[1];
    EXPECT_EQ(lead.id, "db-lead");
    EXPECT_EQ(lead.answer_type, "name");
    EXPECT_EQ(lead.answers, (Strings{"Marta Quell", "Quell"}));
    ASSERT_EQ(lead.lures.size(), 1u);
    EXPECT_EQ(lead.lures[0].answers, (Strings{"Tomas Brandt", "Brandt"}));

    const Question& code = ex.questions[3];
    EXPECT_EQ(code.id, "db-code");
    EXPECT_EQ(code.answer_type, "code");
    EXPECT_TRUE(code.lures.empty());  // lures are optional

    const Question& laptops = ex.questions[6];
    EXPECT_EQ(laptops.id, "hiring-laptops");
    EXPECT_EQ(laptops.cluster, "hiring");
    EXPECT_EQ(laptops.answer_type, "text");

    const Question& cross = ex.questions[7];
    EXPECT_EQ(cross.id, "x-total");
    EXPECT_EQ(cross.kind, QuestionKind::cross);
    EXPECT_EQ(cross.cluster, "");
    EXPECT_EQ(cross.clusters, (Strings{"db", "hiring"}));
    EXPECT_EQ(cross.text, "What do the two budgets add up to?");
    EXPECT_EQ(cross.answers, (Strings{"59,600"}));
    EXPECT_TRUE(cross.lures.empty());
}

TEST(DatasetV2Load, LengthAndVariantOfAreOptional) {
    TempDir dir;
    const LoadResult r = load_text(
        dir, edited(kFixtureText,
                    {{R"("length": "long",)", ""}, {R"("variant_of": "unit-v2-01",)", ""}}));
    ASSERT_TRUE(r.example.has_value());
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(r.example->length, "short");
    EXPECT_EQ(r.example->variant_of, "");
    EXPECT_TRUE(r.example->shared_entities.size() == 1);
}

TEST(DatasetV2Load, SharedEntitiesAreOptionalAndMatchCaseInsensitively) {
    TempDir dir;
    LoadResult r =
        load_text(dir, edited(kFixtureText, {{R"("Halden Supplies"])", R"("HALDEN supplies"])"}}));
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(r.example->shared_entities, (Strings{"HALDEN supplies"}));
    r = load_text(dir, edited(kFixtureText, {{R"("shared_entities": ["Halden Supplies"],)", ""}}));
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_TRUE(r.example->shared_entities.empty());
}

TEST(DatasetV2Load, ClusterNamesMatchTermsAsWholeWordsOnly) {
    // "Replication lagging" does not contain the term "replication lag" as a whole word.
    TempDir dir;
    const LoadResult r = load_text(
        dir, edited(kFixtureText, {{R"("Database migration")", R"("Replication lagging fix")"}}));
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
}

TEST(DatasetV2Load, QuestionTextCountsCharactersNotBytes) {
    // 400 two-byte characters (800 bytes) are within the 400-character limit.
    std::string text;
    for (int i = 0; i < 400; ++i) text += "\xc3\xa9";
    TempDir dir;
    const LoadResult r =
        load_text(dir, edited(kFixtureText, {{"What is the reference code?", text}}));
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(r.example->questions[3].text, text);
}

TEST(DatasetV2Load, UnknownFieldsAreLeftToTheSchema) {
    // As in v1: the loader reads the fields it knows; the JSON Schema rejects the others.
    TempDir dir;
    const LoadResult r = load_text(
        dir, edited(kFixtureText, {{R"({"id": "db-code", )", R"({"id": "db-code", "note": 1, )"}}));
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
}

TEST(DatasetV2Load, V1TurnsMayBeMarkedAsTheUsers) {
    TempDir dir;
    const LoadResult r =
        load_text(dir, edited(kV1, {{R"({"id": 2, "cluster": "b", )",
                                     R"({"id": 2, "cluster": "b", "role": "user", )"}}));
    ASSERT_TRUE(r.example.has_value());
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(r.example->source_format, "rdic.dataset/v1");
    EXPECT_EQ(r.example->turns[1].role, TurnRole::user);
    EXPECT_TRUE(r.example->questions.empty());
    EXPECT_EQ(r.example->length, "short");
}

TEST(DatasetV2Load, V1AndPocFixturesStillLoadWithoutV2Fields) {
    for (const char* name : {"native_small.json", "poc_small.json"}) {
        const LoadResult r = rdic::load_example(kTestData / name);
        ASSERT_TRUE(r.example.has_value()) << name;
        EXPECT_TRUE(r.issues.empty()) << name << describe(r.issues);
        EXPECT_TRUE(r.example->questions.empty()) << name;
        EXPECT_TRUE(r.example->shared_entities.empty()) << name;
        for (const rdic::Turn& t : r.example->turns) EXPECT_EQ(t.role, TurnRole::user) << name;
    }
}

TEST(DatasetV2Load, RoleAndQuestionKindToString) {
    EXPECT_EQ(rdic::to_string(TurnRole::user), "user");
    EXPECT_EQ(rdic::to_string(TurnRole::assistant), "assistant");
    EXPECT_EQ(rdic::to_string(QuestionKind::topic), "topic");
    EXPECT_EQ(rdic::to_string(QuestionKind::cross), "cross");
}

// ---- 2. each v2 rule: one mutation of the valid example, exactly one issue ----------------------

struct V2Case {
    std::string name = {};
    Edits edits = {};                     // applied to `base`
    std::vector<Expected> expected = {};  // exactly these issues
    std::string base = kFixtureText;
    bool example = true;  // an Example still comes back
};

void PrintTo(const V2Case& c, std::ostream* os) {
    *os << c.name;
}

const std::string kNotTopic = R"(cluster "plan" is not a topic cluster)";

std::vector<V2Case> v2_cases() {
    return {
        // -- top level --
        {.name = "UnknownFormat",
         .edits = {{"rdic.dataset/v2", "rdic.dataset/v3"}},
         .expected = {{"/format", R"(must be "rdic.dataset/v1" or "rdic.dataset/v2")"}},
         .example = false},
        {.name = "LengthNeitherShortNorLong",
         .edits = {{R"("length": "long")", R"("length": "medium")"}},
         .expected = {{"/length", R"(must be "short" or "long")"}}},
        {.name = "LengthNotString",
         .edits = {{R"("length": "long")", R"("length": 2)"}},
         .expected = {{"/length", "must be a string, not an integer"}}},
        {.name = "LongVariantWithoutVariantOf",
         .edits = {{R"("variant_of": "unit-v2-01",)", ""}},
         .expected = {{"/variant_of", "is missing: a long variant names its short example's id"}}},
        {.name = "VariantOfNotAnId",
         .edits = {{R"("unit-v2-01",)", R"("Unit V2 01",)"}},
         .expected = {{"/variant_of", "must be lowercase letters, digits and '-', and not empty"}}},
        {.name = "SharedEntityInOneTopicOnly",
         .edits = {{R"(["Halden Supplies"])", R"(["Halden Supplies", "Marta Quell"])"}},
         .expected = {{"/shared_entities/1", R"(shared entity "Marta Quell" occurs only in the )"
                                             R"(turns of cluster "db" (needs at least 2))"}}},
        // The synthesis cluster's turns do not count.
        {.name = "SharedEntityInNoTopic",
         .edits = {{R"(["Halden Supplies"])", R"(["quarter plan"])"}},
         .expected = {{"/shared_entities/0", R"(shared entity "quarter plan" occurs in no topic )"
                                             R"(cluster's turns (needs at least 2))"}}},
        {.name = "SharedEntityEmpty",
         .edits = {{R"(["Halden Supplies"])", R"(["Halden Supplies", ""])"}},
         .expected = {{"/shared_entities/1", "must not be empty"}}},
        {.name = "SharedEntityNotString",
         .edits = {{R"(["Halden Supplies"])", R"(["Halden Supplies", 7])"}},
         .expected = {{"/shared_entities/1", "must be a string, not an integer"}}},
        {.name = "SharedEntitiesNotArray",
         .edits = {{R"(["Halden Supplies"])", R"("Halden Supplies")"}},
         .expected = {{"/shared_entities", "must be an array, not a string"}}},
        {.name = "CanaryInNoneOfItsTurns",
         .edits = {{R"("canaries": ["DBM-4471"])", R"("canaries": ["DBM-9999"])"}},
         .expected = {{"/clusters/0/canaries/0",
                       R"(canary "DBM-9999" is in none of the cluster's turns)"}}},
        // -- cluster names carry no term, of their own cluster or another --
        {.name = "ClusterNameContainsItsOwnTerm",
         .edits = {{R"("Database migration")", R"("Read Replica migration")"}},
         .expected = {{"/clusters/0/name", R"(contains term "read replica" of cluster "db")"}}},
        {.name = "ClusterNameContainsAnotherClustersTerm",
         .edits = {{R"("Quarter plan")", R"("Quarter plan after the hiring panel")"}},
         .expected = {{"/clusters/2/name", R"(contains term "hiring panel" of cluster "hiring")"}}},
        // -- turns --
        {.name = "TurnRoleUnknown",
         .edits = {{R"("role": "user")", R"("role": "system")"}},
         .expected = {{"/turns/2/role", R"(must be "user" or "assistant")"}}},
        {.name = "UserTurnWithoutType",
         .edits = {{R"("type": "instruction", "text": "The deadline is 2 May.)",
                    R"("text": "The deadline is 2 May.)"}},
         .expected = {{"/turns/4/type", "is missing"}}},
        {.name = "AssistantTurnNotContext",
         .edits = {{kTurn2Role, R"("role": "assistant", "type": "query")"}},
         .expected = {{"/turns/1/type", R"(an assistant turn has type "context")"}}},
        {.name = "AssistantTurnsInARow",
         .edits = {{R"({"id": 3, )",
                    R"({"id": 30, "cluster": "db", "role": "assistant", "text": "Anything else?"},)"
                    "\n    "
                    R"({"id": 3, )"}},
         .expected = {{"/turns/2/role", "an assistant turn follows assistant turn 2"}}},
        {.name = "FirstTurnIsTheAssistants",
         // Turn 2 becomes the user's first, so that turn 1 alone breaks a rule.
         .edits = {{kTurn2Role, R"("role": "user", "type": "context")"},
                   {kTurn1Head,
                    R"({"id": 1, "cluster": "db", "role": "assistant", "type": "context",)"}},
         .expected = {{"/turns/0/role", "the first turn is the user's"}}},
        {.name = "AssistantTurnInSynthesisCluster",
         .edits = {{kLastTurn, kLastTurn + ",\n    " +
                                   R"({"id": 8, "cluster": "plan", "role": "assistant", )"
                                   R"("text": "Here is the plan."})"}},
         .expected =
             {{"/turns/7/cluster",
               R"(an assistant turn belongs to a topic cluster, not synthesis cluster "plan")"}}},
        // -- the questions array --
        {.name = "QuestionsMissing",
         .edits = {{R"("questions":)", R"("questionz":)"}},
         .expected = {{"/questions", "is missing"}}},
        {.name = "QuestionsEmpty",
         .expected = {{"/questions", "must not be empty"}},
         .base = with_questions("[]")},
        {.name = "QuestionsNotArray",
         .expected = {{"/questions", "must be an array, not an object"}},
         .base = with_questions("{}")},
        {.name = "QuestionNotObject",
         .edits = {{kQuestionDbCode, "3"}},
         .expected = {{"/questions/3", "must be an object, not an integer"}}},
        {.name = "TooFewTopicQuestions",
         .edits = {{R"("hiring-laptops", "kind": "topic", "cluster": "hiring")",
                    R"("hiring-laptops", "kind": "topic", "cluster": "db")"}},
         .expected = {{"/questions",
                       R"(cluster "hiring" has 2 topic questions, needs at least 3)"}}},
        {.name = "NoCrossQuestion",
         .edits = {{",\n    " + kQuestionCross, ""}},
         .expected = {{"/questions", "needs at least 1 cross question"}}},
        // -- every question --
        {.name = "QuestionIdNotAnId",
         .edits = {{R"("db-budget")", R"("DB budget")"}},
         .expected = {{"/questions/0/id",
                       "must be lowercase letters, digits and '-', and not empty"}}},
        {.name = "QuestionIdDuplicate",
         .edits = {{R"({"id": "db-code")", R"({"id": "db-lead")"}},
         .expected = {{"/questions/3/id", R"(duplicate question id "db-lead")"}}},
        {.name = "QuestionIdMissing",
         .edits = {{R"({"id": "db-code", )", "{"}},
         .expected = {{"/questions/3/id", "is missing"}}},
        {.name = "QuestionKindUnknown",
         .edits = {{R"("db-code", "kind": "topic")", R"("db-code", "kind": "fact")"}},
         .expected = {{"/questions/3/kind", R"(must be "topic" or "cross")"}}},
        {.name = "QuestionTextLongerThan400Characters",
         .edits = {{"What is the reference code?", std::string(401, 'x')}},
         .expected = {{"/questions/3/text", "has 401 characters, more than 400"}}},
        {.name = "QuestionTextBlank",
         .edits = {{"What is the reference code?", " \\t "}},
         .expected = {{"/questions/3/text", "must not be blank"}}},
        {.name = "QuestionTextMissing",
         .edits = {{R"("text": "What is the reference code?", )", ""}},
         .expected = {{"/questions/3/text", "is missing"}}},
        {.name = "AnswerTypeUnknown",
         .edits = {{R"("answer_type": "code")", R"("answer_type": "identifier")"}},
         .expected = {{"/questions/3/answer_type",
                       R"(must be "number", "date", "name", "code" or "text")"}}},
        {.name = "AnswersEmpty",
         .edits = {{R"(["DBM-4471"]})", "[]}"}},
         .expected = {{"/questions/3/answers", "must not be empty"}}},
        {.name = "AnswersMissing",
         .edits = {{R"(, "answers": ["DBM-4471"]})", "}"}},
         .expected = {{"/questions/3/answers", "is missing"}}},
        {.name = "AnswerNotString",
         .edits = {{R"(["DBM-4471"]})", R"(["DBM-4471", 4471]})"}},
         .expected = {{"/questions/3/answers/1", "must be a string, not an integer"}}},
        {.name = "AnswerWithoutLetterOrDigit",
         .edits = {{R"(["DBM-4471"]})", R"(["DBM-4471", "-- \u00e9"]})"}},
         .expected = {{"/questions/3/answers/1", "must contain an ASCII letter or digit"}}},
        // -- topic questions --
        {.name = "AcceptedAnswerNotInTheTurns",
         .edits = {{R"(["DBM-4471"]})", R"(["DBM-4472"]})"}},
         .expected = {{"/questions/3/answers",
                       R"(no accepted answer occurs in the turns of cluster "db")"}}},
        // Matching is word-bounded: "DBM-447" does not occur in "DBM-4471".
        {.name = "AcceptedAnswerOnlyInsideAWord",
         .edits = {{R"(["DBM-4471"]})", R"(["DBM-447"]})"}},
         .expected = {{"/questions/3/answers",
                       R"(no accepted answer occurs in the turns of cluster "db")"}}},
        {.name = "AcceptedAnswerOnlyInAnotherTopic",
         .edits = {{R"(["DBM-4471"]})", R"(["HR-2291"]})"}},
         .expected = {{"/questions/3/answers",
                       R"(no accepted answer occurs in the turns of cluster "db")"}}},
        {.name = "TopicQuestionClusterUnknown",
         .edits = {{R"("cluster": "db", "answer_type": "code")",
                    R"("cluster": "dba", "answer_type": "code")"}},
         .expected = {{"/questions/3/cluster", R"(names cluster "dba", which does not exist)"}}},
        {.name = "TopicQuestionOnSynthesisCluster",
         .edits = {{R"("cluster": "db", "answer_type": "code")",
                    R"("cluster": "plan", "answer_type": "code")"}},
         .expected = {{"/questions/3/cluster", kNotTopic}}},
        {.name = "TopicQuestionClusterMissing",
         .edits = {{R"("cluster": "db", "answer_type": "code")", R"("answer_type": "code")"}},
         .expected = {{"/questions/3/cluster", "is missing"}}},
        // -- lures --
        {.name = "LuresNotArray",
         .edits = {{"[" + kDbBudgetLure + "]", kDbBudgetLure}},
         .expected = {{"/questions/0/lures", "must be an array, not an object"}}},
        {.name = "LureNotObject",
         .edits = {{kDbBudgetLure, R"("47,200")"}},
         .expected = {{"/questions/0/lures/0", "must be an object, not a string"}}},
        {.name = "LureClusterIsTheQuestions",
         .edits = {{kDbBudgetLure, R"({"cluster": "db", "answers": ["47,200"]})"}},
         .expected = {{"/questions/0/lures/0/cluster", R"(is the question's own cluster "db")"}}},
        {.name = "LureClusterUnknown",
         .edits = {{kDbBudgetLure, R"({"cluster": "hr", "answers": ["47,200"]})"}},
         .expected = {{"/questions/0/lures/0/cluster",
                       R"(names cluster "hr", which does not exist)"}}},
        {.name = "LureClusterIsSynthesis",
         .edits = {{kDbBudgetLure, R"({"cluster": "plan", "answers": ["47,200"]})"}},
         .expected = {{"/questions/0/lures/0/cluster", kNotTopic}}},
        {.name = "LureClusterMissing",
         .edits = {{kDbBudgetLure, R"({"answers": ["47,200"]})"}},
         .expected = {{"/questions/0/lures/0/cluster", "is missing"}}},
        {.name = "LureAnswersEmpty",
         .edits = {{kDbBudgetLure, R"({"cluster": "hiring", "answers": []})"}},
         .expected = {{"/questions/0/lures/0/answers", "must not be empty"}}},
        {.name = "LureAnswerNotInTheLureCluster",
         .edits = {{kDbBudgetLure, R"({"cluster": "hiring", "answers": ["47,900"]})"}},
         .expected = {{"/questions/0/lures/0/answers",
                       R"(no lure answer occurs in the turns of cluster "hiring")"}}},
        // "13" is in db's turns ("PostgreSQL 13").
        {.name = "LureAnswerInTheQuestionsCluster",
         .edits = {{R"(["2 May", "May 2"])", R"(["2 May", "May 2", "13"])"}},
         .expected = {{"/questions/2/lures/0/answers/2",
                       R"(lure answer "13" also occurs in the )"
                       R"(turns of the question's cluster "db")"}}},
        {.name = "AcceptedAnswerInTheLureCluster",
         .edits = {{R"("answers": ["12,400"], "lures")",
                    R"("answers": ["12,400", "GBP"], "lures")"}},
         .expected = {{"/questions/0/answers/1",
                       R"(accepted answer "GBP" also occurs in the turns )"
                       R"(of lure cluster "hiring")"}}},
        {.name = "LureAnswerContainsAnAcceptedAnswer",
         .edits = {{kDbBudgetLure,
                    R"({"cluster": "hiring", "answers": ["47,200", "12,400 or 47,200"]})"}},
         .expected = {{"/questions/0/lures/0/answers/1",
                       R"(lure answer "12,400 or 47,200" matches accepted answer "12,400")"}}},
        // -- cross questions --
        {.name = "CrossQuestionWithLures",
         .edits = {{R"(["59,600"]})", R"(["59,600"], "lures": []})"}},
         .expected = {{"/questions/7/lures", "a cross question has no lures"}}},
        {.name = "CrossQuestionOfOneCluster",
         .edits = {{R"("clusters": ["db", "hiring"])", R"("clusters": ["db"])"}},
         .expected = {{"/questions/7/clusters", "must name at least 2 topic clusters, names 1"}}},
        {.name = "CrossQuestionNamesAClusterTwice",
         .edits = {{R"("clusters": ["db", "hiring"])", R"("clusters": ["db", "db"])"}},
         .expected = {{"/questions/7/clusters/1", R"(names cluster "db" twice)"}}},
        {.name = "CrossQuestionNamesSynthesis",
         .edits = {{R"("clusters": ["db", "hiring"])", R"("clusters": ["db", "hiring", "plan"])"}},
         .expected = {{"/questions/7/clusters/2", kNotTopic}}},
        {.name = "CrossQuestionNamesUnknownCluster",
         .edits = {{R"("clusters": ["db", "hiring"])", R"("clusters": ["db", "hiring", "ops"])"}},
         .expected = {{"/questions/7/clusters/2", R"(names cluster "ops", which does not exist)"}}},
        {.name = "CrossQuestionClusterNotString",
         .edits = {{R"("clusters": ["db", "hiring"])", R"("clusters": ["db", "hiring", 1])"}},
         .expected = {{"/questions/7/clusters/2", "must be a string, not an integer"}}},
        {.name = "CrossQuestionClustersMissing",
         .edits = {{R"("clusters": ["db", "hiring"], )", ""}},
         .expected = {{"/questions/7/clusters", "is missing"}}},
        // -- v1 files keep v1's rules --
        {.name = "V1AssistantTurn",
         .edits = {{R"({"id": 2, "cluster": "b", )",
                    R"({"id": 2, "cluster": "b", "role": "assistant", )"}},
         .expected = {{"/turns/1/role",
                       R"(must be "user" (assistant turns need rdic.dataset/v2))"}},
         .base = kV1},
    };
}

class DatasetV2Malformed : public ::testing::TestWithParam<V2Case> {};

TEST_P(DatasetV2Malformed, ReportsTheExactIssue) {
    const V2Case& c = GetParam();
    TempDir dir;
    const fs::path file = dir.write(c.name + ".json", edited(c.base, c.edits));
    const LoadResult r = rdic::load_example(file);
    EXPECT_EQ(r.example.has_value(), c.example) << describe(r.issues);
    expect_exactly(r.issues, file, c.expected);
}

INSTANTIATE_TEST_SUITE_P(DatasetV2, DatasetV2Malformed, ::testing::ValuesIn(v2_cases()),
                         [](const auto& param) { return param.param.name; });

// ---- 3. no mutated v2 file crashes the loader ---------------------------------------------------

TEST(DatasetV2Robustness, MutatedFilesNeverThrow) {
    // Deterministic 64-bit LCG (Knuth's MMIX constants); byte overwrites, cuts and duplications.
    uint64_t state = 20240612;
    const auto next = [&state](size_t n) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return n == 0 ? size_t{0} : static_cast<size_t>((state >> 33) % n);
    };
    static constexpr std::string_view kPunct = "{}[]\":,0123456789.-eE \\tfn\xc3";
    constexpr int kMutants = 300;
    TempDir dir;
    for (int i = 0; i < kMutants; ++i) {
        std::string s = kFixtureText;
        const size_t at = next(s.size());
        switch (next(4)) {
            case 0:
                s[at] = kPunct[next(kPunct.size())];
                break;
            case 1:
                s.resize(at);
                break;
            case 2:
                s.erase(at, 1 + next(16));
                break;
            default:
                s.insert(at, s.substr(at, 1 + next(16)));
                break;
        }
        const fs::path file = dir.write("mutant.json", s);
        EXPECT_NO_THROW(rdic::load_example(file)) << "mutant " << i;
    }
}

// ---- 4. the shipped long variants ---------------------------------------------------------------

TEST(DatasetV2Shipped, LongVariantsAreValidAndMatchTheirShortExample) {
    std::vector<Issue> missing;
    const auto files = rdic::expand_data_paths({kData / "test-long"}, &missing);
    if (files.empty()) GTEST_SKIP() << "data/test-long holds no example yet";
    std::map<std::string, Example> short_by_id;
    for (const fs::path& f : rdic::expand_data_paths({kData / "test"}, &missing)) {
        LoadResult r = rdic::load_example(f);
        if (r.example) short_by_id.emplace(r.example->id, std::move(*r.example));
    }
    for (const fs::path& file : files) {
        SCOPED_TRACE(file.string());
        const LoadResult r = rdic::load_example(file);
        ASSERT_TRUE(r.example.has_value()) << describe(r.issues);
        EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
        const Example& ex = *r.example;
        EXPECT_EQ(ex.source_format, "rdic.dataset/v2");
        EXPECT_EQ(ex.length, "long");
        const auto original = short_by_id.find(ex.variant_of);
        ASSERT_NE(original, short_by_id.end()) << "no test example " << ex.variant_of;
        const Example& s = original->second;
        EXPECT_EQ(s.length, "short");
        EXPECT_EQ(ex.split, s.split);
        EXPECT_EQ(ex.order, s.order);
        EXPECT_GT(ex.turns.size(), s.turns.size());
        ASSERT_EQ(ex.clusters.size(), s.clusters.size());
        for (size_t i = 0; i < ex.clusters.size(); ++i) {
            EXPECT_EQ(ex.clusters[i].id, s.clusters[i].id);
            EXPECT_EQ(ex.clusters[i].terminology, s.clusters[i].terminology);
            EXPECT_EQ(ex.clusters[i].canaries, s.clusters[i].canaries);
        }
        ASSERT_EQ(ex.questions.size(), s.questions.size());
        for (size_t i = 0; i < ex.questions.size(); ++i) {
            EXPECT_EQ(ex.questions[i].id, s.questions[i].id);
            EXPECT_EQ(ex.questions[i].answers, s.questions[i].answers);
        }
    }
}

}  // namespace
