// Dataset loading: both formats read field by field, every malformed input reported as
// file + JSON pointer + exact message, no input crashes the loader, shipped datasets are valid.
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

using rdic::Cluster;
using rdic::ClusterKind;
using rdic::Example;
using rdic::Issue;
using rdic::LoadResult;
using rdic::Turn;
using rdic::TurnType;

const fs::path kTestData = RDIC_TEST_DATA_DIR;
const fs::path kData = RDIC_DATA_DIR;

constexpr uintmax_t kMaxFileBytes = uintmax_t{64} << 20;

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

bool has_issue(const std::vector<Issue>& issues, const fs::path& file, const Expected& e) {
    return std::any_of(issues.begin(), issues.end(), [&](const Issue& i) {
        return i.file == file && i.pointer == e.pointer && i.message == e.message;
    });
}

// Every expected issue is reported for `file`; with `exact`, nothing else is.
void expect_issues(const std::vector<Issue>& issues, const fs::path& file,
                   const std::vector<Expected>& expected, bool exact) {
    for (const Expected& e : expected) {
        EXPECT_TRUE(has_issue(issues, file, e))
            << "expected issue: " << file.string() << ": " << e.pointer << ": " << e.message
            << "\nreported:" << describe(issues);
    }
    if (exact) {
        EXPECT_EQ(issues.size(), expected.size()) << "reported:" << describe(issues);
    }
}

std::vector<std::string> ids_of(const std::vector<const Cluster*>& clusters) {
    std::vector<std::string> out;
    for (const Cluster* c : clusters) out.push_back(c->id);
    return out;
}

std::vector<int32_t> ids_of(const std::vector<const Turn*>& turns) {
    std::vector<int32_t> out;
    for (const Turn* t : turns) out.push_back(t->id);
    return out;
}

using Strings = std::vector<std::string>;

// ---- minimal valid documents that the malformed cases edit --------------------------------------

const std::string kClusterA =
    R"({"id": "a", "kind": "topic", "terminology": ["alpha"], "canaries": ["CAN-A"]})";
const std::string kClusterB = R"({"id": "b", "kind": "topic", "terminology": ["beta"]})";
const std::string kClusterS = R"({"id": "s", "kind": "synthesis", "depends_on": ["a", "b"]})";
const std::string kTurn1 =
    R"({"id": 1, "cluster": "a", "type": "context", "text": "Alpha notes, code CAN-A."})";
const std::string kTurn2 = R"({"id": 2, "cluster": "b", "type": "context", "text": "Beta notes."})";
const std::string kTurn3 = R"({"id": 3, "cluster": "s", "type": "query", "text": "Combine."})";
const std::string kNativeClusters =
    "[\n  " + kClusterA + ",\n  " + kClusterB + ",\n  " + kClusterS + "\n ]";
const std::string kNativeTurns = "[\n  " + kTurn1 + ",\n  " + kTurn2 + ",\n  " + kTurn3 + "\n ]";
const std::string kNativeHead =
    R"({"format": "rdic.dataset/v1", "id": "mini-01", "domain": "testing", "split": "dev", )"
    R"("order": "block",)";
const std::string kNative = kNativeHead + "\n \"clusters\": " + kNativeClusters +
                            ",\n \"turns\": " + kNativeTurns + "\n}\n";

const std::string kPocCluster1 =
    R"("cluster_1": {"task_type": "analysis", "turns": [1], "terminology": ["alpha"]})";
const std::string kPocCluster2 =
    R"("cluster_2": {"task_type": "planning", "turns": [2], "terminology": ["beta"]})";
const std::string kPocCluster3 = R"("cluster_3": {"task_type": "synthesis", "turns": [3]})";
const std::string kPocTurn1 =
    R"({"turn_id": 1, "cluster": 1, "type": "context", "content": "Alpha notes, ALPHA-7."})";
const std::string kPocTurn2 =
    R"({"turn_id": 2, "cluster": 2, "type": "instruction", "instruction": "Plan beta."})";
const std::string kPocTurn3 =
    R"({"turn_id": 3, "cluster": 3, "type": "query", "query": "Combine both."})";
const std::string kPoc =
    R"({"id": "poc-01", "domain": "testing", "total_turns": 3,)"
    "\n \"semantic_clusters\": {\n  " +
    kPocCluster1 + ",\n  " + kPocCluster2 + ",\n  " + kPocCluster3 + "\n },\n \"turns\": [\n  " +
    kPocTurn1 + ",\n  " + kPocTurn2 + ",\n  " + kPocTurn3 + "\n ],\n" +
    R"( "methodology_notes": {"canary_facts": {"cluster_1": "ALPHA-7"}})" + "\n}\n";

TEST(DatasetLoaderBase, MinimalDocumentsThatTheCasesEditAreValid) {
    TempDir dir;
    for (const auto& [name, text] : {std::pair{"native.json", kNative}, {"poc.json", kPoc}}) {
        const fs::path file = dir.write(name, text);
        const LoadResult r = rdic::load_example(file);
        EXPECT_TRUE(r.example.has_value()) << name;
        EXPECT_TRUE(r.issues.empty()) << name << ":" << describe(r.issues);
    }
}

// ---- 1. native format, every field --------------------------------------------------------------

TEST(DatasetLoaderNative, ReadsEveryField) {
    const fs::path file = kTestData / "native_small.json";
    const LoadResult r = rdic::load_example(file);
    ASSERT_TRUE(r.example.has_value()) << describe(r.issues);
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    const Example& ex = *r.example;

    EXPECT_EQ(ex.id, "unit-native-01");
    EXPECT_EQ(ex.domain, "software_engineering");
    EXPECT_EQ(ex.split, "dev");
    EXPECT_EQ(ex.order, "interleaved");
    EXPECT_EQ(ex.description,
              "A platform lead juggles a database migration, an on-call rota and a hiring round.");
    EXPECT_EQ(ex.source_format, "rdic.dataset/v1");
    EXPECT_EQ(ex.file, file);

    // The file lists the synthesis cluster second: topics come first (file order), then it.
    ASSERT_EQ(ex.clusters.size(), 4u);
    const Cluster& db = ex.clusters[0];
    EXPECT_EQ(db.id, "db");
    EXPECT_EQ(db.kind, ClusterKind::topic);
    EXPECT_EQ(db.name, "Database migration");
    EXPECT_EQ(db.task, "Write the migration plan.");
    EXPECT_EQ(db.terminology, (Strings{"replication lag", "cutover window", "read replica"}));
    EXPECT_EQ(db.canaries, (Strings{"ticket DBM-4471"}));
    EXPECT_TRUE(db.depends_on.empty());
    EXPECT_EQ(db.reference_output,
              "Cut over in the Sunday window once replication lag stays "
              "under one second (ticket DBM-4471).");

    const Cluster& oncall = ex.clusters[1];
    EXPECT_EQ(oncall.id, "oncall");
    EXPECT_EQ(oncall.kind, ClusterKind::topic);
    EXPECT_EQ(oncall.name, "On-call rota");
    EXPECT_EQ(oncall.task, "Propose the new on-call rota.");
    EXPECT_EQ(oncall.terminology,
              (Strings{"pager rotation", "escalation policy", "follow-the-sun"}));
    EXPECT_EQ(oncall.canaries, (Strings{"Marta Quell", "rota v7"}));
    EXPECT_TRUE(oncall.depends_on.empty());
    EXPECT_EQ(oncall.reference_output,
              "Rota v7: weekly pager rotation led by Marta Quell, "
              "follow-the-sun with the Sydney office.");

    const Cluster& hiring = ex.clusters[2];
    EXPECT_EQ(hiring.id, "hiring");
    EXPECT_EQ(hiring.kind, ClusterKind::topic);
    EXPECT_EQ(hiring.name, "Hiring round");
    EXPECT_EQ(hiring.task, "Outline the hiring process.");
    EXPECT_EQ(hiring.terminology, (Strings{"phone screen", "take-home exercise", "hiring panel"}));
    EXPECT_EQ(hiring.canaries, (Strings{"req HR-2291"}));
    EXPECT_TRUE(hiring.depends_on.empty());
    EXPECT_EQ(hiring.reference_output,
              "For req HR-2291: phone screen, a two-hour take-home "
              "exercise, then a hiring panel of three.");

    const Cluster& plan = ex.clusters[3];
    EXPECT_EQ(plan.id, "plan");
    EXPECT_EQ(plan.kind, ClusterKind::synthesis);
    EXPECT_EQ(plan.name, "Quarter plan");
    EXPECT_EQ(plan.task, "Combine the three plans into one quarter plan for the director.");
    EXPECT_TRUE(plan.terminology.empty());
    EXPECT_TRUE(plan.canaries.empty());
    EXPECT_EQ(plan.depends_on, (Strings{"db", "oncall", "hiring"}));
    EXPECT_EQ(plan.reference_output,
              "July: migration. August: new rota.\nSeptember: hiring panel.");

    struct ExpectedTurn {
        int32_t id;
        const char* cluster;
        TurnType type;
        const char* text;
    };
    const ExpectedTurn turns[] = {
        {1, "db", TurnType::context,
         "We run PostgreSQL 13 with one read replica; the work is tracked as ticket DBM-4471."},
        {2, "oncall", TurnType::context,
         "Marta Quell owns the pager rotation; the escalation policy is three years old."},
        {3, "hiring", TurnType::context,
         "We have budget for two engineers under req HR-2291 (\u20ac120k each)."},
        {4, "db", TurnType::instruction,
         "Keep replication lag under a second before the cutover window opens."},
        {5, "oncall", TurnType::instruction,
         "Draft rota v7 so that nobody is paged two weeks in a row."},
        {6, "hiring", TurnType::query,
         "Should the phone screen come before the take-home exercise?"},
        {7, "db", TurnType::query, "Which night is safest for the cutover?"},
        {8, "oncall", TurnType::context, "Sydney could cover nights:\na follow-the-sun setup."},
        {9, "hiring", TurnType::instruction, "Put a \"hiring panel\" of three together."},
        {12, "plan", TurnType::query, "Now combine all three into one quarter plan."},
    };
    ASSERT_EQ(ex.turns.size(), std::size(turns));
    for (size_t i = 0; i < std::size(turns); ++i) {
        SCOPED_TRACE("turn index " + std::to_string(i));
        EXPECT_EQ(ex.turns[i].id, turns[i].id);
        EXPECT_EQ(ex.turns[i].cluster, turns[i].cluster);
        EXPECT_EQ(ex.turns[i].type, turns[i].type);
        EXPECT_EQ(ex.turns[i].text, turns[i].text);
    }

    // Helper methods.
    ASSERT_NE(ex.find("oncall"), nullptr);
    EXPECT_EQ(ex.find("oncall"), &ex.clusters[1]);
    EXPECT_EQ(ex.find("plan"), &ex.clusters[3]);
    EXPECT_EQ(ex.find("nope"), nullptr);
    EXPECT_EQ(ex.find(""), nullptr);
    EXPECT_EQ(ids_of(ex.turns_of("db")), (std::vector<int32_t>{1, 4, 7}));
    EXPECT_EQ(ids_of(ex.turns_of("oncall")), (std::vector<int32_t>{2, 5, 8}));
    EXPECT_EQ(ids_of(ex.turns_of("hiring")), (std::vector<int32_t>{3, 6, 9}));
    EXPECT_EQ(ids_of(ex.turns_of("plan")), (std::vector<int32_t>{12}));
    EXPECT_TRUE(ex.turns_of("nope").empty());
    EXPECT_EQ(ex.turns_of("db")[1], &ex.turns[3]);
    EXPECT_EQ(ids_of(ex.topics()), (Strings{"db", "oncall", "hiring"}));
    EXPECT_EQ(ids_of(ex.syntheses()), (Strings{"plan"}));
}

TEST(DatasetLoaderNative, SynthesesComeInDependencyOrder) {
    // "final" is listed first but needs "mid", which needs the topics.
    TempDir dir;
    const std::string text = edited(
        kNative,
        {{kClusterA,
          R"({"id": "final", "kind": "synthesis", "depends_on": ["s", "b"]}, )" + kClusterA},
         {kTurn3, kTurn3 + R"(, {"id": 4, "cluster": "final", "type": "query", "text": "All."})"}});
    const fs::path file = dir.write("order.json", text);
    const LoadResult r = rdic::load_example(file);
    ASSERT_TRUE(r.example.has_value());
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(ids_of(r.example->topics()), (Strings{"a", "b"}));
    EXPECT_EQ(ids_of(r.example->syntheses()), (Strings{"s", "final"}));
    ASSERT_EQ(r.example->clusters.size(), 4u);
    EXPECT_EQ(r.example->clusters[3].id, "final");
}

TEST(DatasetLoaderNative, OptionalFieldsMayBeAbsent) {
    // description, split, order, name, task, canaries, reference_output are optional.
    TempDir dir;
    const LoadResult r = rdic::load_example(dir.write("x.json", kNative));
    ASSERT_TRUE(r.example.has_value());
    EXPECT_EQ(r.example->description, "");
    EXPECT_EQ(r.example->clusters[1].name, "");
    EXPECT_EQ(r.example->clusters[1].task, "");
    EXPECT_EQ(r.example->clusters[1].reference_output, "");
    EXPECT_TRUE(r.example->clusters[1].canaries.empty());
}

TEST(DatasetLoaderNative, TokenBudgetIsCheckedWhenGiven) {
    TempDir dir;
    const fs::path file = dir.write("x.json", kNative);
    rdic::ValidationOptions opt;
    opt.count_tokens = [](const std::string& s) { return static_cast<int64_t>(s.size()); };
    // All turn texts, each followed by a blank line.
    const int64_t all = static_cast<int64_t>(std::string("Alpha notes, code CAN-A.\n\n").size() +
                                             std::string("Beta notes.\n\n").size() +
                                             std::string("Combine.\n\n").size());
    opt.max_context = all;
    EXPECT_TRUE(rdic::load_example(file, opt).issues.empty());
    opt.max_context = all - 1;
    const LoadResult r = rdic::load_example(file, opt);
    expect_issues(r.issues, file,
                  {{"/turns", "all turns together are " + std::to_string(all) +
                                  " tokens, more than the context of " + std::to_string(all - 1)}},
                  true);
}

TEST(DatasetLoaderNative, IssueAndTurnTypeToString) {
    const Issue whole{"d/x.json", "", "file is not valid UTF-8"};
    EXPECT_EQ(whole.to_string(), "d/x.json: (file): file is not valid UTF-8");
    const Issue field{"d/x.json", "/turns/3/text", "is missing"};
    EXPECT_EQ(field.to_string(), "d/x.json: /turns/3/text: is missing");
    EXPECT_EQ(rdic::to_string(TurnType::instruction), "instruction");
    EXPECT_EQ(rdic::to_string(TurnType::context), "context");
    EXPECT_EQ(rdic::to_string(TurnType::query), "query");
}

// ---- 2. the proof of concept's format, every field ----------------------------------------------

TEST(DatasetLoaderPoc, ReadsEveryField) {
    const fs::path file = kTestData / "poc_small.json";
    const LoadResult r = rdic::load_example(file);
    ASSERT_TRUE(r.example.has_value()) << describe(r.issues);
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    const Example& ex = *r.example;

    EXPECT_EQ(ex.id, "poc-healthcare-01");
    EXPECT_EQ(ex.domain, "healthcare");
    EXPECT_EQ(ex.split, "");
    EXPECT_EQ(ex.order, "");
    EXPECT_EQ(ex.description,
              "A ward manager plans night staffing and a discharge checklist, then combines them.");
    EXPECT_EQ(ex.source_format, "poc");
    EXPECT_EQ(ex.file, file);

    ASSERT_EQ(ex.clusters.size(), 3u);
    const Cluster& c1 = ex.clusters[0];
    EXPECT_EQ(c1.id, "cluster_1");
    EXPECT_EQ(c1.kind, ClusterKind::topic);
    EXPECT_EQ(c1.name, "Night staffing");                            // focus_area
    EXPECT_EQ(c1.task, "A staffing analysis for the night shift.");  // expected_output
    EXPECT_EQ(c1.terminology, (Strings{"skill mix", "agency nurses", "acuity score"}));
    EXPECT_EQ(c1.canaries, (Strings{"Ward 7B"}));
    EXPECT_TRUE(c1.depends_on.empty());
    // ground_truth objects flatten to "key: value" lines in file order, nesting indented.
    EXPECT_EQ(c1.reference_output,
              "summary: Five nurses on nights when acuity is high.\n"
              "actions:\n"
              "  Book one more band 5 nurse\n"
              "  Cut agency shifts to one a week\n"
              "metrics:\n"
              "  nurses: 5\n"
              "  agency_share: 0.25\n"
              "  approved: true\n");

    const Cluster& c2 = ex.clusters[1];
    EXPECT_EQ(c2.id, "cluster_2");
    EXPECT_EQ(c2.kind, ClusterKind::topic);
    EXPECT_EQ(c2.name, "Discharge process");
    EXPECT_EQ(c2.task, "A discharge checklist.");
    EXPECT_EQ(c2.terminology,
              (Strings{"discharge lounge", "take-home medication", "transport booking"}));
    EXPECT_EQ(c2.canaries, (Strings{"Dr. Okafor", "PX-19"}));
    EXPECT_TRUE(c2.depends_on.empty());
    EXPECT_EQ(c2.reference_output,
              "Order take-home medication the day before\n"
              "owner: Dr. Okafor\n"
              "form: PX-19\n");

    const Cluster& c3 = ex.clusters[2];
    EXPECT_EQ(c3.id, "cluster_3");
    EXPECT_EQ(c3.kind, ClusterKind::synthesis);
    EXPECT_EQ(c3.name, "Ward improvement plan");
    EXPECT_EQ(c3.task, "One plan covering staffing and discharges.");
    EXPECT_TRUE(c3.terminology.empty());  // a synthesis cluster's terminology is not read
    EXPECT_TRUE(c3.canaries.empty());
    EXPECT_EQ(c3.depends_on, (Strings{"cluster_1", "cluster_2"}));
    EXPECT_EQ(c3.reference_output,
              "plan:\n"
              "  phases:\n"
              "    name: staffing\n"
              "    weeks: 2\n"
              "    name: discharges\n"
              "    weeks: 3\n");

    struct ExpectedTurn {
        int32_t id;
        const char* cluster;
        TurnType type;
        const char* text;
    };
    const ExpectedTurn turns[] = {
        {1, "cluster_1", TurnType::context,
         "Ward 7B runs nights with four nurses and relies on agency nurses twice a week."},
        {2, "cluster_2", TurnType::context,
         "Discharges stall until the take-home medication arrives from pharmacy."},
        {3, "cluster_1", TurnType::instruction,
         "Work out the skill mix we need when the acuity score is above 30."},
        {4, "cluster_2", TurnType::instruction,
         "Draft a checklist; Dr. Okafor signs off every discharge."},
        {5, "cluster_1", TurnType::query, "How many agency shifts could we cut?"},
        {6, "cluster_2", TurnType::context,
         "Transport booking goes through form PX-19 and the discharge lounge closes at 8pm."},
        {7, "cluster_3", TurnType::instruction,
         "Combine the staffing analysis and the checklist into one plan."},
        {8, "cluster_3", TurnType::query, "What should we start with next month?"},
    };
    ASSERT_EQ(ex.turns.size(), std::size(turns));
    for (size_t i = 0; i < std::size(turns); ++i) {
        SCOPED_TRACE("turn index " + std::to_string(i));
        EXPECT_EQ(ex.turns[i].id, turns[i].id);
        EXPECT_EQ(ex.turns[i].cluster, turns[i].cluster);
        EXPECT_EQ(ex.turns[i].type, turns[i].type);
        EXPECT_EQ(ex.turns[i].text, turns[i].text);
    }

    EXPECT_EQ(ids_of(ex.topics()), (Strings{"cluster_1", "cluster_2"}));
    EXPECT_EQ(ids_of(ex.syntheses()), (Strings{"cluster_3"}));
    EXPECT_EQ(ids_of(ex.turns_of("cluster_1")), (std::vector<int32_t>{1, 3, 5}));
    EXPECT_EQ(ids_of(ex.turns_of("cluster_2")), (std::vector<int32_t>{2, 4, 6}));
    EXPECT_EQ(ids_of(ex.turns_of("cluster_3")), (std::vector<int32_t>{7, 8}));
    EXPECT_EQ(ex.find("cluster_3"), &ex.clusters[2]);
}

TEST(DatasetLoaderPoc, NameFallsBackToTaskTypeAndSynthesisIsCaseInsensitive) {
    TempDir dir;
    const fs::path file = dir.write("x.json", edited(kPoc, {{R"("synthesis")", R"("Synthesis")"}}));
    const LoadResult r = rdic::load_example(file);
    ASSERT_TRUE(r.example.has_value());
    EXPECT_TRUE(r.issues.empty()) << describe(r.issues);
    EXPECT_EQ(r.example->clusters[0].name, "analysis");
    EXPECT_EQ(r.example->clusters[2].name, "Synthesis");
    EXPECT_EQ(r.example->clusters[2].kind, ClusterKind::synthesis);
    EXPECT_EQ(r.example->clusters[0].reference_output, "");  // no ground_truth
}

// ---- 3. malformed inputs: the exact issue for each ----------------------------------------------

struct MalformedCase {
    std::string name = {};
    std::string base = {};  // document before the edits
    Edits edits = {};       // applied to base
    std::vector<Expected> expected = {};
    bool exact = true;    // the expected issues are all the issues
    bool example = true;  // an Example still comes back
};

void PrintTo(const MalformedCase& c, std::ostream* os) {
    *os << c.name;
}

std::string case_name(const ::testing::TestParamInfo<MalformedCase>& param) {
    return param.param.name;
}

const std::string kTurnTypeMessage = R"(must be "instruction", "context" or "query")";

std::vector<MalformedCase> malformed_cases() {
    std::vector<MalformedCase> cases = {
        // -- whole file --
        {.name = "EmptyFile",
         .base = "",
         .expected = {{"",
                       "malformed JSON: parse error at line 1, column 1: syntax error while "
                       "parsing value - unexpected end of input; expected '[', '{', or a "
                       "literal"}},
         .example = false},
        {.name = "TruncatedJson",
         .base = R"({"format": "rdic.dataset/v1", "id": "x", "clusters": [)",
         .expected = {{"",
                       "malformed JSON: parse error at line 1, column 55: syntax error while "
                       "parsing value - unexpected end of input; expected '[', '{', or a "
                       "literal"}},
         .example = false},
        {.name = "TrailingGarbage",
         .base = "{\"id\": \"x\"}\n}",
         .expected = {{"",
                       "malformed JSON: parse error at line 2, column 1: syntax error while "
                       "parsing value - unexpected '}'; expected end of input"}},
         .example = false},
        {.name = "TopLevelArray",
         .base = R"([{"format": "rdic.dataset/v1"}])",
         .expected = {{"", "must be a JSON object, not an array"}},
         .example = false},
        {.name = "TopLevelString",
         .base = R"("rdic.dataset/v1")",
         .expected = {{"", "must be a JSON object, not a string"}},
         .example = false},
        {.name = "InvalidUtf8Byte",
         .base = kNative,
         .edits = {{"Beta notes.", "Beta \xff notes."}},
         .expected = {{"", "file is not valid UTF-8"}},
         .example = false},
        {.name = "Utf8EncodedSurrogate",
         .base = kNative,
         .edits = {{"Beta notes.", "Beta \xed\xa0\x80 notes."}},
         .expected = {{"", "file is not valid UTF-8"}},
         .example = false},
        {.name = "OverlongUtf8",
         .base = kNative,
         .edits = {{"Beta notes.", "Beta \xc0\xaf notes."}},
         .expected = {{"", "file is not valid UTF-8"}},
         .example = false},
        {.name = "WrongFormat",
         .base = kNative,
         .edits = {{"rdic.dataset/v1", "rdic.dataset/v3"}},
         .expected = {{"/format", R"(must be "rdic.dataset/v1" or "rdic.dataset/v2")"}},
         .example = false},
        {.name = "FormatNotString",
         .base = kNative,
         .edits = {{R"("rdic.dataset/v1")", "1"}},
         .expected = {{"/format", R"(must be "rdic.dataset/v1" or "rdic.dataset/v2")"}},
         .example = false},
        {.name = "NeitherFormat",
         .base = kNative,
         .edits = {{R"("format": "rdic.dataset/v1", )", ""}},
         .expected = {{"", R"(neither format: no "format" ("rdic.dataset/v1" or )"
                           R"("rdic.dataset/v2") and no "semantic_clusters" )"
                           R"((proof-of-concept format))"}},
         .example = false},

        // -- native: top-level fields --
        // Without an id the semantic checks are skipped, so this is the only issue.
        {.name = "MissingId",
         .base = kNative,
         .edits = {{R"("id": "mini-01", )", ""}},
         .expected = {{"/id", "is missing"}}},
        {.name = "IdNotString",
         .base = kNative,
         .edits = {{R"("mini-01")", "7"}},
         .expected = {{"/id", "must be a string, not an integer"}}},
        {.name = "MissingDomain",
         .base = kNative,
         .edits = {{R"("domain": "testing", )", ""}},
         .expected = {{"/domain", "is missing"}}},
        {.name = "BadSplit",
         .base = kNative,
         .edits = {{R"("split": "dev")", R"("split": "validation")"}},
         .expected = {{"/split", R"(must be "train", "dev" or "test")"}}},
        {.name = "SplitNull",
         .base = kNative,
         .edits = {{R"("split": "dev")", R"("split": null)"}},
         .expected = {{"/split", "must be a string, not null"}}},
        {.name = "BadOrder",
         .base = kNative,
         .edits = {{R"("order": "block")", R"("order": "random")"}},
         .expected = {{"/order", R"(must be "block" or "interleaved")"}}},
        {.name = "DescriptionNotString",
         .base = kNative,
         .edits = {{R"("order": "block",)", R"("order": "block", "description": true,)"}},
         .expected = {{"/description", "must be a string, not a boolean"}}},

        // -- native: clusters --
        // Every turn then names a cluster that does not exist, and more: target only this one.
        {.name = "MissingClusters",
         .base = kNative,
         .edits = {{"\n \"clusters\": " + kNativeClusters + ",", ""}},
         .expected = {{"/clusters", "is missing"}},
         .exact = false},
        // As above, the turns' clusters are all unknown too.
        {.name = "ClustersNotArray",
         .base = kNative,
         .edits = {{kNativeClusters, R"({"a": {}})"}},
         .expected = {{"/clusters", "must be an array, not an object"}},
         .exact = false},
        // Cluster "b" is then unknown to turn 2 and to "s": target only the type error.
        {.name = "ClusterNotObject",
         .base = kNative,
         .edits = {{kClusterB, R"("b")"}},
         .expected = {{"/clusters/1", "must be an object, not a string"}},
         .exact = false},
        // The cluster is dropped, so "b" is unknown elsewhere: target only the missing id.
        {.name = "MissingClusterId",
         .base = kNative,
         .edits = {{R"({"id": "b", )", "{"}},
         .expected = {{"/clusters/1/id", "is missing"}},
         .exact = false},
        // The cluster is dropped, so "b" is unknown elsewhere: target only the type error.
        {.name = "ClusterIdNotString",
         .base = kNative,
         .edits = {{R"({"id": "b", )", R"({"id": ["b"], )"}},
         .expected = {{"/clusters/1/id", "must be a string, not an array"}},
         .exact = false},
        {.name = "BadClusterKind",
         .base = kNative,
         .edits = {{R"("kind": "topic", "terminology": ["beta"])",
                    R"("kind": "theme", "terminology": ["beta"])"}},
         .expected = {{"/clusters/1/kind", R"(must be "topic" or "synthesis")"}}},
        {.name = "MissingClusterKind",
         .base = kNative,
         .edits = {{R"("kind": "topic", "terminology": ["beta"])", R"("terminology": ["beta"])"}},
         .expected = {{"/clusters/1/kind", "is missing"}}},
        {.name = "DuplicateClusterId",
         .base = kNative,
         .edits = {{kClusterB,
                    kClusterB + R"(, {"id": "b", "kind": "topic", "terminology": ["gamma"]})"}},
         .expected = {{"/clusters/2/id", R"(duplicate cluster id "b")"}}},
        {.name = "TermNotString",
         .base = kNative,
         .edits = {{R"(["beta"])", R"(["beta", 3])"}},
         .expected = {{"/clusters/1/terminology/1", "must be a string, not an integer"}}},
        // The cluster then has no terms either: target only the type error.
        {.name = "TerminologyNotArray",
         .base = kNative,
         .edits = {{R"(["beta"])", R"("beta")"}},
         .expected = {{"/clusters/1/terminology", "must be an array of strings, not a string"}},
         .exact = false},
        {.name = "TopicWithoutTerminology",
         .base = kNative,
         .edits = {{R"(, "terminology": ["beta"])", ""}},
         .expected = {{"/clusters/1/terminology", "a topic cluster needs terms"}}},
        {.name = "TopicWithEmptyTerminology",
         .base = kNative,
         .edits = {{R"(["beta"])", "[]"}},
         .expected = {{"/clusters/1/terminology", "a topic cluster needs terms"}}},
        {.name = "TopicWithDependsOn",
         .base = kNative,
         .edits = {{R"(["beta"])", R"(["beta"], "depends_on": ["a"])"}},
         .expected = {{"/clusters/1/depends_on", "only synthesis clusters depend"}}},
        {.name = "SynthesisWithoutDependsOn",
         .base = kNative,
         .edits = {{R"(, "depends_on": ["a", "b"])", ""}},
         .expected = {{"/clusters/2/depends_on", "a synthesis cluster needs inputs"}}},
        {.name = "DependsOnUnknownCluster",
         .base = kNative,
         .edits = {{R"(["a", "b"])", R"(["a", "b", "z"])"}},
         .expected = {{"/clusters/2/depends_on/2", R"(names cluster "z", which does not exist)"}}},
        {.name = "DependsOnNotString",
         .base = kNative,
         .edits = {{R"(["a", "b"])", R"(["a", "b", {}])"}},
         .expected = {{"/clusters/2/depends_on/2", "must be a string, not an object"}}},
        {.name = "DependsOnItself",
         .base = kNative,
         .edits = {{R"(["a", "b"])", R"(["a", "b", "s"])"}},
         .expected = {{"/clusters/2/depends_on/2", "depends on itself"},
                      {"/clusters/2/depends_on",
                       R"(synthesis cluster "s" is part of a dependency cycle)"}}},
        {.name = "DependencyCycle",
         .base = kNative,
         .edits = {{kClusterS, kClusterS + R"(, {"id": "t", "kind": "synthesis", )"
                                           R"("depends_on": ["b", "s"]})"},
                   {R"(["a", "b"])", R"(["a", "t"])"},
                   {kTurn3, kTurn3 + R"(, {"id": 4, "cluster": "t", "type": "query", )"
                                     R"("text": "And again."})"}},
         .expected = {{"/clusters/2/depends_on",
                       R"(synthesis cluster "s" is part of a dependency cycle)"},
                      {"/clusters/3/depends_on",
                       R"(synthesis cluster "t" is part of a dependency cycle)"}}},
        // Terms are compared case-insensitively.
        {.name = "TermSharedByTwoClusters",
         .base = kNative,
         .edits = {{R"(["beta"])", R"(["beta", "ALPHA"])"}},
         .expected = {{"/clusters/1/terminology/1",
                       R"(term "ALPHA" is also a term of cluster "a")"}}},
        // Canaries are matched case-insensitively.
        {.name = "CanaryInAnotherClustersTurn",
         .base = kNative,
         .edits = {{"Beta notes.", "Beta notes, see can-a."}},
         .expected = {{"/clusters/0/canaries/0",
                       R"(canary "CAN-A" also appears in turn 2 of cluster "b")"}}},
        {.name = "CanaryInNoneOfItsTurns",
         .base = kNative,
         .edits = {{"Alpha notes, code CAN-A.", "Alpha notes."}},
         .expected = {{"/clusters/0/canaries/0",
                       R"(canary "CAN-A" is in none of the cluster's turns)"}}},
        {.name = "CanaryNotString",
         .base = kNative,
         .edits = {{R"(["CAN-A"])", R"(["CAN-A", 5])"}},
         .expected = {{"/clusters/0/canaries/1", "must be a string, not an integer"}}},
        {.name = "OnlyOneTopicCluster",
         .base = kNative,
         .edits = {{",\n  " + kClusterB, ""},
                   {",\n  " + kTurn2, ""},
                   {R"(["a", "b"])", R"(["a"])"}},
         .expected = {{"/clusters", "needs at least 2 topic clusters, has 1"}}},
        {.name = "NoSynthesisCluster",
         .base = kNative,
         .edits = {{",\n  " + kClusterS, ""}, {",\n  " + kTurn3, ""}},
         .expected = {{"/clusters", "needs a synthesis cluster"}}},
        {.name = "ClusterWithoutTurns",
         .base = kNative,
         .edits = {{",\n  " + kTurn2, ""}},
         .expected = {{"/clusters/1", R"(cluster "b" has no turns)"}}},

        // -- native: turns --
        // Every cluster then has no turns, and the canary is in none: target only this one.
        {.name = "MissingTurns",
         .base = kNative,
         .edits = {{",\n \"turns\": " + kNativeTurns, ""}},
         .expected = {{"/turns", "is missing"}},
         .exact = false},
        // As above.
        {.name = "TurnsNotArray",
         .base = kNative,
         .edits = {{kNativeTurns, R"("none")"}},
         .expected = {{"/turns", "must be an array, not a string"}},
         .exact = false},
        {.name = "TurnNotObject",
         .base = kNative,
         .edits = {{kTurn2, "2"}},
         .expected = {{"/turns/1", "must be an object, not an integer"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "TurnIdMissing",
         .base = kNative,
         .edits = {{R"({"id": 2, )", "{"}},
         .expected = {{"/turns/1/id", "is missing"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "TurnIdNotInteger",
         .base = kNative,
         .edits = {{R"({"id": 2, )", R"({"id": "2", )"}},
         .expected = {{"/turns/1/id", "must be an integer"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "TurnIdFractional",
         .base = kNative,
         .edits = {{R"({"id": 2, )", R"({"id": 2.5, )"}},
         .expected = {{"/turns/1/id", "must be an integer"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "DuplicateTurnId",
         .base = kNative,
         .edits = {{R"({"id": 2, )", R"({"id": 1, )"}},
         .expected = {{"/turns/1/id", "duplicate turn id 1"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "BadTurnType",
         .base = kNative,
         .edits = {{R"("type": "context", "text": "Beta)",
                    R"("type": "statement", "text": "Beta)"}},
         .expected = {{"/turns/1/type", kTurnTypeMessage}}},
        {.name = "MissingTurnType",
         .base = kNative,
         .edits = {{R"("type": "context", "text": "Beta)", R"("text": "Beta)"}},
         .expected = {{"/turns/1/type", "is missing"}}},
        {.name = "EmptyTurnText",
         .base = kNative,
         .edits = {{R"("Beta notes.")", R"("")"}},
         .expected = {{"/turns/1", "turn 2 has no text"}}},
        {.name = "WhitespaceTurnText",
         .base = kNative,
         .edits = {{R"("Beta notes.")", R"(" \t\r\n ")"}},
         .expected = {{"/turns/1", "turn 2 has no text"}}},
        {.name = "MissingTurnText",
         .base = kNative,
         .edits = {{R"(, "text": "Beta notes.")", ""}},
         .expected = {{"/turns/1/text", "is missing"}, {"/turns/1", "turn 2 has no text"}}},
        {.name = "TurnNamesUnknownCluster",
         .base = kNative,
         .edits = {{R"("cluster": "b")", R"("cluster": "c")"}},
         .expected = {{"/turns/1/cluster", R"(names cluster "c", which does not exist)"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "TurnClusterNotString",
         .base = kNative,
         .edits = {{R"("cluster": "b")", R"("cluster": 2)"}},
         .expected = {{"/turns/1/cluster", "must be a string, not an integer"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},
        {.name = "TurnClusterMissing",
         .base = kNative,
         .edits = {{R"("cluster": "b", )", ""}},
         .expected = {{"/turns/1/cluster", "is missing"},
                      {"/clusters/1", R"(cluster "b" has no turns)"}}},

        // -- the proof of concept's format --
        // The label says cluster_1, the lists say cluster_2, which is then left without turns.
        {.name = "PocLabelDisagreesWithList",
         .base = kPoc,
         .edits = {{R"("cluster": 2,)", R"("cluster": 1,)"}},
         .expected = {{"/turns/1/cluster",
                       R"(says "cluster_1" but turn 2 is listed in "cluster_2")"},
                      {"/semantic_clusters/cluster_2", R"(cluster "cluster_2" has no turns)"}}},
        {.name = "PocTurnInNoList",
         .base = kPoc,
         .edits = {{R"("turns": [2])", R"("turns": [])"}},
         .expected = {{"/turns/1", "turn 2 is in no cluster's turn list"}}},
        {.name = "PocTurnInTwoLists",
         .base = kPoc,
         .edits = {{R"("turns": [1])", R"("turns": [1, 2])"}},
         .expected = {{"/turns/1", "turn 2 is listed in several clusters"}}},
        {.name = "PocListsMissingTurn",
         .base = kPoc,
         .edits = {{R"("turns": [2])", R"("turns": [2, 9])"}},
         .expected = {{"/semantic_clusters/cluster_2/turns",
                       "lists turn 9, which does not exist"}}},
        {.name = "PocTotalTurnsMismatch",
         .base = kPoc,
         .edits = {{R"("total_turns": 3)", R"("total_turns": 4)"}},
         .expected = {{"/total_turns", "says 4 but there are 3 turns"}}},
        {.name = "PocMissingId",
         .base = kPoc,
         .edits = {{R"("id": "poc-01", )", ""}},
         .expected = {{"/id", "is missing"}}},
        {.name = "PocDomainNotString",
         .base = kPoc,
         .edits = {{R"("domain": "testing")", R"("domain": 1.5)"}},
         .expected = {{"/domain", "must be a string, not a number"}}},
        // No clusters at all: every turn's cluster is unknown too. Target only this one.
        {.name = "PocSemanticClustersNotObject",
         .base = kPoc,
         .edits = {{R"("semantic_clusters": {)", R"("semantic_clusters": [], "x": {)"}},
         .expected = {{"/semantic_clusters", "must be an object"}},
         .exact = false},
        // Pointer tokens are escaped: '/' as ~1, '~' as ~0.
        {.name = "PocClusterNotObject",
         .base = kPoc,
         .edits = {{kPocCluster1, kPocCluster1 + R"(, "x/y~z": 3)"}},
         .expected = {{"/semantic_clusters/x~1y~0z", "must be an object, not an integer"}}},
        {.name = "PocTaskTypeMissing",
         .base = kPoc,
         .edits = {{R"("task_type": "planning", )", ""}},
         .expected = {{"/semantic_clusters/cluster_2/task_type", "is missing"}}},
        // Turn 2 is then in no list: target only the missing list.
        {.name = "PocClusterTurnsMissing",
         .base = kPoc,
         .edits = {{R"("turns": [2], )", ""}},
         .expected = {{"/semantic_clusters/cluster_2/turns", "is missing"}},
         .exact = false},
        {.name = "PocClusterTurnIdNotInteger",
         .base = kPoc,
         .edits = {{R"("turns": [2])", R"("turns": ["2"])"}},
         .expected = {{"/semantic_clusters/cluster_2/turns/0", "must be an integer turn id"},
                      {"/turns/1", "turn 2 is in no cluster's turn list"}}},
        // Turn 2 is dropped: the list names a missing turn, cluster_2 has none, total is off.
        {.name = "PocTurnIdNotInteger",
         .base = kPoc,
         .edits = {{R"("turn_id": 2,)", R"("turn_id": "2",)"}},
         .expected = {{"/turns/1/turn_id", "must be an integer"}},
         .exact = false},
        // As above.
        {.name = "PocDuplicateTurnId",
         .base = kPoc,
         .edits = {{R"("turn_id": 2,)", R"("turn_id": 1,)"}},
         .expected = {{"/turns/1/turn_id", "duplicate turn id 1"}},
         .exact = false},
        {.name = "PocBadClusterLabel",
         .base = kPoc,
         .edits = {{R"("cluster": 2,)", R"("cluster": true,)"}},
         .expected = {{"/turns/1/cluster", "must be a cluster name or number"},
                      {"/semantic_clusters/cluster_2", R"(cluster "cluster_2" has no turns)"}}},
        // The label also disagrees with the list and cluster_2 has no turns: target this one.
        {.name = "PocLabelNamesUnknownCluster",
         .base = kPoc,
         .edits = {{R"("cluster": 2,)", R"("cluster": "cluster_9",)"}},
         .expected = {{"/turns/1/cluster", R"(names cluster "cluster_9", which does not exist)"}},
         .exact = false},
        {.name = "PocBadTurnType",
         .base = kPoc,
         .edits = {{R"("type": "instruction")", R"("type": "command")"}},
         .expected = {{"/turns/1/type", kTurnTypeMessage}}},
        {.name = "PocEmptyText",
         .base = kPoc,
         .edits = {{R"("Plan beta.")", R"("")"}},
         .expected = {{"/turns/1", "turn 2 has no text"}}},
        {.name = "PocTermSharedByTwoClusters",
         .base = kPoc,
         .edits = {{R"(["beta"])", R"(["Alpha"])"}},
         .expected = {{"/semantic_clusters/cluster_2/terminology/0",
                       R"(term "Alpha" is also a term of cluster "cluster_1")"}}},
    };
    return cases;
}

class DatasetLoaderMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(DatasetLoaderMalformed, ReportsTheExactIssue) {
    const MalformedCase& c = GetParam();
    TempDir dir;
    const fs::path file = dir.write(c.name + ".json", edited(c.base, c.edits));
    const LoadResult r = rdic::load_example(file);
    EXPECT_EQ(r.example.has_value(), c.example) << describe(r.issues);
    expect_issues(r.issues, file, c.expected, c.exact);
}

INSTANTIATE_TEST_SUITE_P(Cases, DatasetLoaderMalformed, ::testing::ValuesIn(malformed_cases()),
                         case_name);

// File-level failures: the size limit, a missing path, a directory.

TEST(DatasetLoaderFile, FileLargerThan64MiBIsRefused) {
    TempDir dir;
    const fs::path file = dir.write("huge.json", kNative);
    fs::resize_file(file, kMaxFileBytes + 1);  // sparse: cheap to make, never read
    const LoadResult r = rdic::load_example(file);
    EXPECT_FALSE(r.example.has_value());
    expect_issues(r.issues, file, {{"", "file is 67108865 bytes, more than the 64 MiB limit"}},
                  true);
}

TEST(DatasetLoaderFile, FileOfExactly64MiBIsNotRefusedForItsSize) {
    TempDir dir;
    const fs::path file = dir.write("big.json", kNative);
    fs::resize_file(file, kMaxFileBytes);  // zero bytes after the document
    const LoadResult r = rdic::load_example(file);
    for (const Issue& i : r.issues) {
        EXPECT_EQ(i.message.find("64 MiB"), std::string::npos) << describe(r.issues);
    }
}

TEST(DatasetLoaderFile, MissingPathIsReported) {
    TempDir dir;
    const fs::path file = dir.path() / "does-not-exist.json";
    const LoadResult r = rdic::load_example(file);
    EXPECT_FALSE(r.example.has_value());
    expect_issues(r.issues, file, {{"", "cannot read the file (No such file or directory)"}}, true);
}

TEST(DatasetLoaderFile, DirectoryIsReported) {
    TempDir dir;
    const LoadResult r = rdic::load_example(dir.path());
    EXPECT_FALSE(r.example.has_value());
    expect_issues(r.issues, dir.path(), {{"", "cannot read the file (Is a directory)"}}, true);
}

TEST(DatasetLoaderFile, ExpandDataPathsListsJsonFilesSortedAndReportsMissingPaths) {
    TempDir dir;
    fs::create_directories(dir.path() / "d" / "sub");
    dir.write("d/b.json", "{}");
    dir.write("d/a.json", "{}");
    dir.write("d/notes.txt", "x");
    dir.write("d/sub/c.json", "{}");
    dir.write("single.txt", "x");
    std::vector<Issue> issues;
    const auto files = rdic::expand_data_paths(
        {dir.path() / "d", dir.path() / "single.txt", dir.path() / "nope"}, &issues);
    EXPECT_EQ(files, (std::vector<fs::path>{
                         dir.path() / "d" / "a.json", dir.path() / "d" / "b.json",
                         dir.path() / "d" / "sub" / "c.json", dir.path() / "single.txt"}));
    expect_issues(issues, dir.path() / "nope", {{"", "no such file or directory"}}, true);
}

// ---- 4. no input crashes the loader -------------------------------------------------------------

// Deterministic 64-bit LCG (Knuth's MMIX constants).
class Lcg {
public:
    explicit Lcg(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return state_ >> 33;
    }
    size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

private:
    uint64_t state_;
};

// One to three random edits: byte overwrites (random or JSON punctuation), truncation,
// deleting or duplicating a short range.
std::string mutate(const std::string& original, Lcg& rng) {
    static constexpr std::string_view kPunct = "{}[]\":,0123456789.-eE \\tfn\xc3\xff";
    std::string s = original;
    const size_t n_edits = 1 + rng.below(3);
    for (size_t e = 0; e < n_edits && !s.empty(); ++e) {
        const size_t at = rng.below(s.size());
        switch (rng.below(5)) {
            case 0:
                s[at] = static_cast<char>(rng.below(256));
                break;
            case 1:
                s[at] = kPunct[rng.below(kPunct.size())];
                break;
            case 2:
                s.resize(at);
                break;
            case 3:
                s.erase(at, 1 + rng.below(16));
                break;
            default:
                s.insert(at, s.substr(at, 1 + rng.below(16)));
                break;
        }
    }
    return s;
}

TEST(DatasetLoaderRobustness, MutatedFilesNeverThrow) {
    TempDir dir;
    for (const char* fixture : {"native_small.json", "poc_small.json"}) {
        const std::string original = read_bytes(kTestData / fixture);
        ASSERT_FALSE(original.empty()) << fixture;
        Lcg rng(20240611);
        for (int i = 0; i < 300; ++i) {
            const fs::path file = dir.write("mutant.json", mutate(original, rng));
            EXPECT_NO_THROW(rdic::load_example(file)) << fixture << " mutant " << i;
        }
    }
}

// ---- 5. the shipped datasets are valid ----------------------------------------------------------

std::vector<fs::path> shipped_files() {
    std::vector<Issue> missing;
    const auto files = rdic::expand_data_paths({kData / "dev", kData / "test"}, &missing);
    EXPECT_TRUE(missing.empty()) << describe(missing);
    return files;
}

TEST(DatasetLoaderShipped, EveryShippedExampleLoadsWithoutIssues) {
    const auto files = shipped_files();
    ASSERT_FALSE(files.empty());
    for (const fs::path& file : files) {
        const LoadResult r = rdic::load_example(file);
        EXPECT_TRUE(r.example.has_value()) << file;
        EXPECT_TRUE(r.issues.empty()) << file.string() << ":" << describe(r.issues);
    }
}

TEST(DatasetLoaderShipped, ShippedExampleIdsAreUnique) {
    std::map<std::string, fs::path> seen;
    for (const fs::path& file : shipped_files()) {
        const LoadResult r = rdic::load_example(file);
        if (!r.example) continue;  // reported by the test above
        const auto [it, fresh] = seen.emplace(r.example->id, file);
        EXPECT_TRUE(fresh) << "id \"" << r.example->id << "\" in both " << it->second << " and "
                           << file;
    }
}

// ---- regressions: inputs that once crashed, threw or were misreported by load.cpp
// ---------------- Enable a test once load.cpp is fixed.

bool has_pointer(const std::vector<Issue>& issues, const std::string& pointer) {
    return std::any_of(issues.begin(), issues.end(),
                       [&](const Issue& i) { return i.pointer == pointer; });
}

// json::parse throws out_of_range (not parse_error) for a number beyond double's range, and
// load_example only catches parse_error: the exception escapes although the header promises
// that nothing throws on bad input.
TEST(DatasetLoaderRegressions, NumberOverflowIsReportedNotThrown) {
    TempDir dir;
    const fs::path file =
        dir.write("x.json", edited(kNative, {{R"({"id": 2, )", R"({"id": 2, "weight": 1e999, )"}}));
    LoadResult r;
    ASSERT_NO_THROW(r = rdic::load_example(file));
    EXPECT_FALSE(r.example.has_value());
    ASSERT_EQ(r.issues.size(), 1u) << describe(r.issues);
    EXPECT_EQ(r.issues[0].pointer, "");
    EXPECT_EQ(r.issues[0].message.rfind("malformed JSON: ", 0), 0u) << r.issues[0].message;
}

// flatten() recurses once per nesting level: a 400 KB ground truth nested 200,000 deep overflows
// the stack (SIGSEGV). nlohmann itself parses and frees it without recursion.
TEST(DatasetLoaderRegressions, DeeplyNestedGroundTruthDoesNotCrash) {
    constexpr size_t kDepth = 200'000;
    const std::string nested = std::string(kDepth, '[') + R"("x")" + std::string(kDepth, ']');
    TempDir dir;
    const fs::path file = dir.write(
        "x.json", edited(kPoc, {{R"("id": "poc-01", )",
                                 R"("id": "poc-01", "ground_truth": {"output_cluster_1": )" +
                                     nested + "}, "}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(r.example.has_value() || !r.issues.empty());
}

// "id": "" is accepted without an issue (the docs require [a-z0-9-]+), and the empty id also
// makes check_semantics return early, so here the missing synthesis cluster goes unreported.
TEST(DatasetLoaderRegressions, EmptyIdIsReportedAndTheExampleStillChecked) {
    TempDir dir;
    const fs::path file = dir.write("x.json", edited(kNative, {{R"("mini-01")", R"("")"},
                                                               {",\n  " + kClusterS, ""},
                                                               {",\n  " + kTurn3, ""}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(has_pointer(r.issues, "/id")) << describe(r.issues);
    EXPECT_TRUE(has_issue(r.issues, file, {"/clusters", "needs a synthesis cluster"}))
        << describe(r.issues);
}

// A cluster whose id is "" is dropped without an issue.
TEST(DatasetLoaderRegressions, EmptyClusterIdIsReported) {
    TempDir dir;
    const std::string empty_id = R"({"id": "", "kind": "topic", "terminology": ["g"]})";
    const fs::path file =
        dir.write("x.json", edited(kNative, {{kClusterS, kClusterS + ", " + empty_id}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(has_pointer(r.issues, "/clusters/3/id")) << describe(r.issues);
}

// A native turn whose cluster is "" belongs to no cluster, yet no issue is reported.
TEST(DatasetLoaderRegressions, EmptyTurnClusterIsReported) {
    TempDir dir;
    const fs::path file = dir.write(
        "x.json", edited(kNative, {{kTurn3, kTurn3 + R"(, {"id": 4, "cluster": "", )"
                                                     R"("type": "context", "text": "Orphan."})"}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(has_pointer(r.issues, "/turns/3/cluster")) << describe(r.issues);
}

// Turn ids are read with get<int32_t>(), which wraps: 4294967297 becomes 1 and is reported as a
// duplicate of turn 1 instead of as out of range.
TEST(DatasetLoaderRegressions, TurnIdBeyondInt32IsReportedNotWrapped) {
    TempDir dir;
    const fs::path file =
        dir.write("x.json", edited(kNative, {{R"({"id": 2, )", R"({"id": 4294967297, )"}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(has_pointer(r.issues, "/turns/1/id")) << describe(r.issues);
    EXPECT_FALSE(has_issue(r.issues, file, {"/turns/1/id", "duplicate turn id 1"}));
}

// flatten() writes "key: " for a null value but no newline, so the next key joins its line:
// {"a": null, "b": "x"} becomes "a: b: x\n".
TEST(DatasetLoaderRegressions, FlattenKeepsEachKeyOnItsOwnLine) {
    TempDir dir;
    const fs::path file = dir.write(
        "x.json", edited(kPoc, {{R"("id": "poc-01", )",
                                 R"("id": "poc-01", "ground_truth": {"output_cluster_1": )"
                                 R"({"a": null, "b": "x"}}, )"}}));
    const LoadResult r = rdic::load_example(file);
    ASSERT_TRUE(r.example.has_value()) << describe(r.issues);
    const std::string& text = r.example->clusters[0].reference_output;
    EXPECT_EQ(text.find("a: b"), std::string::npos) << text;
    EXPECT_TRUE(text.starts_with("b: x\n") || text.find("\nb: x\n") != std::string::npos) << text;
}

// POC issues about canaries point at /semantic_clusters/cluster_N/canaries/K, which does not
// exist in a POC file: the canaries are in /methodology_notes/canary_facts/cluster_N.
TEST(DatasetLoaderRegressions, PocCanaryIssuePointsIntoCanaryFacts) {
    TempDir dir;
    const fs::path file =
        dir.write("x.json", edited(kPoc, {{"Plan beta.", "Plan beta with alpha-7."}}));
    const LoadResult r = rdic::load_example(file);
    expect_issues(r.issues, file,
                  {{"/methodology_notes/canary_facts/cluster_1",
                    R"(canary "ALPHA-7" also appears in turn 2 of cluster "cluster_2")"}},
                  true);
}

// Likewise the cluster-count issues point at /clusters, which a POC file does not have.
TEST(DatasetLoaderRegressions, PocClusterCountIssuePointsAtSemanticClusters) {
    TempDir dir;
    const fs::path file = dir.write(
        "x.json", edited(kPoc, {{R"("task_type": "synthesis")", R"("task_type": "summary")"}}));
    const LoadResult r = rdic::load_example(file);
    EXPECT_TRUE(has_issue(r.issues, file, {"/semantic_clusters", "needs a synthesis cluster"}))
        << describe(r.issues);
}

// nlohmann's lexer takes a NUL byte for the end of the input, so whatever followed one would
// never be read: the loader refuses NUL bytes before parsing.
TEST(DatasetLoaderRegressions, BytesAfterANulAreNotIgnored) {
    TempDir dir;
    const fs::path file = dir.write("x.json", kNative + std::string(1, '\0') + "}} not json");
    const LoadResult r = rdic::load_example(file);
    EXPECT_FALSE(r.example.has_value());
    ASSERT_EQ(r.issues.size(), 1u) << describe(r.issues);
    EXPECT_EQ(r.issues[0].pointer, "");
    EXPECT_EQ(r.issues[0].message,
              "file contains a NUL byte at offset " + std::to_string(kNative.size()));
}

}  // namespace
