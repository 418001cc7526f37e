// The records of a results directory (rdic/records): one reader per kind that refuses a bad
// record with file, line, JSON pointer and reason; one pair counted once; the writer lock;
// atomic whole-file writes and appends that name the OS reason when they fail. No model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "rdic/error.h"
#include "rdic/records/files.h"
#include "rdic/records/metric_record.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "rdic/reporting/report.h"
#include "rdic/reporting/run_summary.h"
#include "support/record_fixtures.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::corrupt;
using test::run_dir;
using test::sample_config;
using test::sample_result;
using test::TempDir;

TEST(Records, ResultRoundTripsThroughItsOneWriterAndReader) {
    ResultRecord r = sample_result("ex-0", "semantic");
    r.clustering =
        ClusteringRecord{.method = "lexical", .parameters = {}, .k = 2, .assignment = {{1, "a"}}};
    r.answers.push_back({.question = "q1", .text = "42", .n_tokens = 2, .stop_reason = "eog"});
    const ResultRecord back = parse_result_line(result_to_line(r), "x:1");
    EXPECT_EQ(back.example_id, "ex-0");
    EXPECT_EQ(back.file.relative, r.file.relative);
    EXPECT_EQ(back.file.absolute, r.file.absolute);
    EXPECT_TRUE(back.ok);
    ASSERT_EQ(back.outputs.size(), 1u);
    EXPECT_EQ(back.outputs[0].ttft_ms, 100);
    ASSERT_TRUE(back.kv);
    EXPECT_EQ(back.kv->peak_bytes, 1048576u);
    EXPECT_EQ(back.outputs[0].kv_bytes, 4096u);
    EXPECT_FALSE(back.outputs[0].cached_tokens);
    EXPECT_EQ(back.config.backend, "in-process");
    ASSERT_TRUE(back.clustering);
    EXPECT_EQ(back.clustering->assignment[0].second, "a");
    EXPECT_EQ(back.answers[0].text, "42");
    EXPECT_EQ(result_to_line(back), result_to_line(r));
}

// The copy share is measured for every output of today's executor; records written before the
// copy control existed have none, and they read as "not measured", never as 0.
TEST(Records, ACopyShareIsWrittenWhenMeasuredAndReadAsAbsentWhenNot) {
    ResultRecord r = sample_result("ex-0", "semantic");
    r.outputs[0].prompt_copy_share = 0.25;
    const ResultRecord measured = parse_result_line(result_to_line(r), "x:1");
    ASSERT_TRUE(measured.outputs[0].prompt_copy_share);
    EXPECT_EQ(*measured.outputs[0].prompt_copy_share, 0.25);
    r.outputs[0].prompt_copy_share.reset();
    const std::string line = result_to_line(r);
    EXPECT_EQ(line.find("prompt_copy_share"), std::string::npos);
    EXPECT_FALSE(parse_result_line(line, "x:1").outputs[0].prompt_copy_share);
    json bad = json::parse(result_to_line(measured));
    bad["outputs"][0]["prompt_copy_share"] = 1.5;
    EXPECT_NE(corrupt([&] {
                  parse_result_line(bad.dump(), "x:2");
              }).find("x:2: /outputs/0/prompt_copy_share"),
              std::string::npos);
}

// Finding 2: a hand-made line with a few keys was averaged with the real record.
TEST(Records, AGarbageLineIsRefusedNeverAveraged) {
    TempDir t;
    const fs::path dir =
        run_dir(t, "run",
                {result_to_line(sample_result("edu-06", "semantic")),
                 R"({"status":"ok","example_id":"edu-06","condition":"semantic"})"});
    const std::string why = corrupt([&] { read_results(dir / "results.jsonl"); });
    EXPECT_NE(why.find("results.jsonl:2: /schema: missing"), std::string::npos) << why;
    // With the schema it still misses every other field: refused, not defaulted.
    json bad = json::parse(R"({"status":"ok","example_id":"edu-06","condition":"semantic"})");
    bad["schema"] = 1;
    const std::string why2 = corrupt([&] { parse_result_line(bad.dump(), "r.jsonl:7"); });
    EXPECT_NE(why2.find("r.jsonl:7: /file: missing"), std::string::npos) << why2;
    // The report refuses the directory instead of averaging (it reported 12.27 MiB, 17 pairs).
    const std::string why3 = corrupt([&] { build_report({dir}, {}); });
    EXPECT_NE(why3.find(":2: "), std::string::npos) << why3;
}

// Finding 7: wrong-typed fields named by file, line and JSON pointer.
TEST(Records, AWrongTypedFieldNamesFileLineAndPointer) {
    json r = json::parse(result_to_line(sample_result("e", "semantic")));
    json status = r;
    status["status"] = 5;
    EXPECT_NE(corrupt([&] {
                  parse_result_line(status.dump(), "d/results.jsonl:3");
              }).find("d/results.jsonl:3: /status: must be a string, is a number"),
              std::string::npos);
    json peak = r;
    peak["kv"]["peak_bytes"] = "big";
    EXPECT_NE(corrupt([&] {
                  parse_result_line(peak.dump(), "d/results.jsonl:4");
              }).find("d/results.jsonl:4: /kv/peak_bytes: must be an integer, is string"),
              std::string::npos);
    json text = r;
    text["outputs"][0]["text"] = nullptr;
    EXPECT_NE(corrupt([&] {
                  parse_result_line(text.dump(), "f:1");
              }).find("f:1: /outputs/0/text: must be a string, is null"),
              std::string::npos);
    json version = r;
    version["schema"] = kRecordSchemaVersion + 1;
    EXPECT_NE(corrupt([&] { parse_result_line(version.dump(), "f:1"); })
                  .find("/schema: version " + std::to_string(kRecordSchemaVersion + 1) +
                        " is not supported"),
              std::string::npos);
    EXPECT_NE(
        corrupt([&] { parse_result_line("{\"schema\": 1", "f:9"); }).find("f:9: /: not valid JSON"),
        std::string::npos);
}

// Schema 2: a remote engine's record has no KV numbers (null, never 0), and the cached prompt
// tokens it reported; both survive the one writer and reader.
TEST(Records, ARemoteRecordKeepsMissingKvAbsentAndCachedTokens) {
    ResultRecord r = sample_result("ex-1", "semantic");
    r.config.backend = "http://127.0.0.1:8080";
    r.kv.reset();
    r.outputs[0].kv_bytes.reset();
    r.outputs[0].cached_tokens = 7;
    r.timing.cached_prompt_tokens = 7;
    const std::string line = result_to_line(r);
    const json j = json::parse(line);
    EXPECT_TRUE(j["kv"].is_null());
    EXPECT_TRUE(j["outputs"][0]["kv_bytes"].is_null());
    EXPECT_EQ(j["outputs"][0]["cached_tokens"], 7);
    EXPECT_EQ(j["config"]["backend"], "http://127.0.0.1:8080");
    const ResultRecord back = parse_result_line(line, "x:1");
    EXPECT_FALSE(back.kv);
    EXPECT_FALSE(back.outputs[0].kv_bytes);
    EXPECT_EQ(back.outputs[0].cached_tokens, 7);
    EXPECT_EQ(back.timing.cached_prompt_tokens, 7);
    EXPECT_EQ(back.config.backend, "http://127.0.0.1:8080");
    EXPECT_EQ(result_to_line(back), line);
    // The summary says n/a for the KV columns, not 0.
    ResultsLog log;
    log.records = {back};
    log.line_numbers = {1};
    const std::string summary = run_summary(log, {"semantic"});
    EXPECT_NE(summary.find("remote http://127.0.0.1:8080"), std::string::npos) << summary;
    EXPECT_NE(summary.find("n/a"), std::string::npos) << summary;
}

// The no-conversation control has answers and no outputs: its record is valid (and only its;
// any other condition with no outputs is a broken record), KV is absent, the summary says n/a.
TEST(Records, AnAnswersOnlyRecordIsValidForTheControlOnly) {
    ResultRecord r = sample_result("ex-1", "no_conversation");
    r.outputs.clear();
    r.kv.reset();
    r.answers = {{.question = "q1",
                  .text = "Ann",
                  .n_tokens = 2,
                  .n_context_tokens = 30,
                  .stop_reason = "end_of_generation"}};
    const std::string line = result_to_line(r);
    const ResultRecord back = parse_result_line(line, "x:1");
    EXPECT_TRUE(back.outputs.empty());
    ASSERT_EQ(back.answers.size(), 1u);
    EXPECT_EQ(back.answers[0].text, "Ann");
    EXPECT_FALSE(back.kv);
    EXPECT_EQ(result_to_line(back), line);
    ResultsLog log;
    log.records = {back};
    log.line_numbers = {1};
    // No outputs: KV and time are n/a (the answers' time is timing.questions_ms), never 0.
    const std::string summary = run_summary(log, {"no_conversation"});
    EXPECT_NE(summary.find("no_conversation        1      0        n/a"), std::string::npos)
        << summary;
    EXPECT_EQ(summary.find("0.00"), std::string::npos) << summary;

    r.condition = "semantic";
    try {
        parse_result_line(result_to_line(r), "x:2");
        ADD_FAILURE() << "a semantic record without outputs was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("at least one output"), std::string::npos) << e.what();
    }
}

// The report of a remote run: the KV columns say n/a (never 0) and the execution names the URL.
TEST(Records, TheReportOfARemoteRunSaysNotMeasuredForKv) {
    TempDir t;
    ConfigRecord c = sample_config();
    c.config.backend = "http://127.0.0.1:8080";
    std::vector<std::string> lines;
    for (const char* ex : {"e1", "e2"}) {
        ResultRecord r = sample_result(ex, "semantic");
        r.config.backend = c.config.backend;
        r.kv.reset();
        r.outputs[0].kv_bytes.reset();
        lines.push_back(result_to_line(r));
    }
    const fs::path dir = run_dir(t, "remote", lines, c);
    const Report report = build_report({dir}, {});
    EXPECT_TRUE(report.not_measured.count({"example.kv_peak_mib", "semantic"}));
    EXPECT_EQ(report.summary("example.kv_peak_mib", "semantic"), nullptr);
    const std::string md = render_markdown(report);
    EXPECT_NE(md.find("n/a"), std::string::npos);
    EXPECT_NE(render_main_table(report).find("| n/a"), std::string::npos)
        << render_main_table(report);
    EXPECT_NE(md.find("remote http://127.0.0.1:8080"), std::string::npos);
}

// Schema 3: a record says whom it ran with and the config whether conditions ran together;
// both are required from 3, and records of 1 and 2 (every condition alone) read as alone.
TEST(Records, TogetherIsRequiredFromSchemaThreeAndAloneBefore) {
    ResultRecord r = sample_result("ex-3", "sequential");
    r.config.together = true;
    r.together_with = {"prompted", "turn_based"};
    const ResultRecord back = parse_result_line(result_to_line(r), "r:1");
    EXPECT_TRUE(back.config.together);
    EXPECT_EQ(back.together_with, (std::vector<std::string>{"prompted", "turn_based"}));
    json missing = json::parse(result_to_line(r));
    missing.erase("together_with");
    EXPECT_NE(corrupt([&] {
                  parse_result_line(missing.dump(), "r:2");
              }).find("r:2: /together_with: missing"),
              std::string::npos);
    json no_flag = json::parse(result_to_line(r));
    no_flag["config"].erase("together");
    EXPECT_NE(corrupt([&] {
                  parse_result_line(no_flag.dump(), "r:3");
              }).find("r:3: /config/together: missing"),
              std::string::npos);
    for (int schema : {1, 2}) {
        json old = json::parse(result_to_line(r));
        old["schema"] = schema;
        old.erase("together_with");
        old["config"].erase("together");
        const ResultRecord o = parse_result_line(old.dump(), "old:1");
        EXPECT_FALSE(o.config.together) << schema;
        EXPECT_TRUE(o.together_with.empty()) << schema;
    }
    TempDir t;
    ConfigRecord c = sample_config();
    c.config.together = true;
    std::ofstream(t.path() / "config.json") << config_to_text(c);
    EXPECT_TRUE(read_config(t.path() / "config.json").config.together);
    json old_config = json::parse(config_to_text(c));
    old_config["schema"] = 2;
    old_config["config"].erase("together");
    std::ofstream(t.path() / "config.json", std::ios::trunc) << old_config.dump();
    EXPECT_FALSE(read_config(t.path() / "config.json").config.together);
    // --resume refuses to continue a run in the other execution.
    EXPECT_EQ(resume_differences(c, sample_config()), std::vector<std::string>{"together: 1 vs 0"});
}

// Pairs that ran together carry the shared session's KV and time: the report and the summary
// leave them out (n/a, with a note), and keep prefill tokens, which are each pair's own.
TEST(Records, TheReportLeavesOutKvAndTimeOfPairsThatRanTogether) {
    TempDir t;
    ConfigRecord c = sample_config();
    c.config.together = true;
    std::vector<std::string> lines;
    for (const char* cond : {"sequential", "semantic"}) {
        ResultRecord r = sample_result("e1", cond);
        r.config.together = true;
        r.together_with = {cond == std::string("semantic") ? "sequential" : "semantic"};
        lines.push_back(result_to_line(r));
    }
    ResultRecord alone = sample_result("e2", "semantic");
    alone.config.together = true;  // fell back to one by one: its own numbers
    lines.push_back(result_to_line(alone));
    const fs::path dir = run_dir(t, "together", lines, c);
    const Report report = build_report({dir}, {});
    EXPECT_EQ(report.summary("example.kv_peak_mib", "sequential"), nullptr);
    EXPECT_TRUE(report.not_measured.count({"example.total_s", "sequential"}));
    ASSERT_NE(report.summary("example.prefill_tokens", "sequential"), nullptr);
    ASSERT_NE(report.summary("example.kv_peak_mib", "semantic"), nullptr);
    EXPECT_EQ(report.summary("example.kv_peak_mib", "semantic")->n, 1) << "e2 only";
    ASSERT_FALSE(report.notes.empty());
    EXPECT_NE(report.notes[0].find("2 pairs ran together"), std::string::npos) << report.notes[0];
    const std::string summary =
        run_summary(read_results(dir / "results.jsonl"), {"sequential", "semantic"});
    EXPECT_NE(summary.find("2 pairs ran together"), std::string::npos) << summary;
    EXPECT_NE(summary.find("sequential             1      0        n/a"), std::string::npos)
        << summary;
}

// Schema 1 records (written before remote backends) stay readable: in-process, KV required.
TEST(Records, SchemaOneRecordsStayReadable) {
    json old = json::parse(result_to_line(sample_result("ex-2", "semantic")));
    old["schema"] = 1;
    old["config"].erase("backend");
    old["outputs"][0].erase("cached_tokens");
    const ResultRecord back = parse_result_line(old.dump(), "old:1");
    EXPECT_EQ(back.config.backend, "in-process");
    ASSERT_TRUE(back.kv);
    EXPECT_EQ(back.kv->peak_bytes, 1048576u);
    json no_kv = old;
    no_kv["kv"] = nullptr;
    EXPECT_NE(corrupt([&] {
                  parse_result_line(no_kv.dump(), "old:2");
              }).find("old:2: /kv: must be an object, is null"),
              std::string::npos);
    // Schema 2 requires the backend.
    json no_backend = json::parse(result_to_line(sample_result("ex-2", "semantic")));
    no_backend["config"].erase("backend");
    EXPECT_NE(corrupt([&] {
                  parse_result_line(no_backend.dump(), "new:1");
              }).find("new:1: /config/backend: missing"),
              std::string::npos);
}

json chrf_record(double chrf) {
    return {{"schema", 1},       {"metric_set", "similarity/v1"},
            {"example_id", "e"}, {"condition", "semantic"},
            {"naive", false},    {"cluster", "a"},
            {"kind", "topic"},   {"rouge1", 0.5},
            {"rouge2", 0.5},     {"rougeL", 0.5},
            {"bleu", 10},        {"chrf", chrf}};
}

// Finding 7: chrF 1e308 reached the bootstrap as inf.
TEST(Records, AMetricOutOfItsRangeIsRefused) {
    const MetricRecord ok = parse_metric_line(chrf_record(40).dump(), "m:1");
    EXPECT_EQ(ok.key(), "similarity/v1|e|semantic|a");
    EXPECT_NE(std::find(ok.values.begin(), ok.values.end(),
                        std::pair<std::string, double>{"topic.chrf", 40}),
              ok.values.end());
    EXPECT_NE(corrupt([&] {
                  parse_metric_line(chrf_record(1e308).dump(), "m:2");
              }).find("m:2: /chrf: must be in [0, 100], is 1e+308"),
              std::string::npos);
    json unknown = chrf_record(40);
    unknown["metric_set"] = "bertscore/v9";
    EXPECT_NE(corrupt([&] {
                  parse_metric_line(unknown.dump(), "m:3");
              }).find("m:3: /metric_set: unknown metric set \"bertscore/v9\""),
              std::string::npos);
}

// Metric ids come from one table: the report shows exactly its labelled rows, in its order, and
// every row names a known metric set (or none, for example.* values from results.jsonl).
TEST(Records, TheReportsMetricsAreTheLabelledRowsOfTheOneTable) {
    std::vector<std::string> labelled;
    std::set<std::string> ids;
    for (const MetricDef& m : metric_catalog()) {
        EXPECT_TRUE(ids.insert(m.id).second) << m.id << " is in the table twice";
        const std::string id = m.id, set = m.set;
        const bool example = id.rfind("example.", 0) == 0;
        EXPECT_EQ(example, set.empty()) << id;
        if (!example) {
            const auto& sets = metric_sets();
            EXPECT_NE(std::find(sets.begin(), sets.end(), set), sets.end()) << id;
        }
        if (m.label[0] != '\0') labelled.push_back(id);
    }
    std::vector<std::string> shown;
    for (const MetricSpec& m : report_metrics()) shown.push_back(m.id);
    EXPECT_EQ(shown, labelled);
    // A value the reader yields carries a row's id.
    const MetricRecord r = parse_metric_line(chrf_record(40).dump(), "m:1");
    for (const auto& [id, v] : r.values) EXPECT_TRUE(ids.count(id)) << id;
}

// Finding 3: two writers left two successes for one pair; they were both counted.
TEST(Records, TwoSuccessesForOnePairAreRefused) {
    TempDir t;
    const std::string line = result_to_line(sample_result("ex-1", "semantic"));
    const fs::path dir = run_dir(t, "run", {line, line});
    const ResultsLog log = read_results(dir / "results.jsonl");
    const std::string why = corrupt([&] { current_records(log); });
    EXPECT_NE(why.find("results.jsonl:2: /example_id: pair (ex-1, semantic) already succeeded on "
                       "line 1"),
              std::string::npos)
        << why;
    EXPECT_NE(corrupt([&] { build_report({dir}, {}); }).find("already succeeded"),
              std::string::npos);
    const fs::path metrics = t.path() / "metrics.jsonl";
    test::append_line(metrics, chrf_record(40).dump());
    test::append_line(metrics, chrf_record(41).dump());
    EXPECT_NE(corrupt([&] { read_metrics(metrics); }).find("metrics.jsonl:2: /metric_set: record "),
              std::string::npos);
}

// Finding 6: a failed pair resumed later kept both records ("ok 1, failed 1" for one pair).
TEST(Records, AResumedFailureReplacesItsFailedRecord) {
    TempDir t;
    ResultRecord failed = sample_result("ex-1", "semantic");
    failed.ok = false;
    failed.error = "context overflow";
    const fs::path dir =
        run_dir(t, "run",
                {result_to_line(failed), result_to_line(sample_result("ex-2", "semantic")),
                 result_to_line(sample_result("ex-1", "semantic"))});
    const ResultsLog log = read_results(dir / "results.jsonl");
    const auto current = current_records(log);
    ASSERT_EQ(current.size(), 2u);
    EXPECT_TRUE(current[0]->ok);
    EXPECT_EQ(current[0]->example_id, "ex-1");
    const Report r = build_report({dir}, {});
    EXPECT_EQ(r.runs[0].pairs_ok, 2);
    EXPECT_EQ(r.runs[0].pairs_failed, 0);
    const std::string summary = run_summary(log, {"semantic"});
    EXPECT_NE(summary.find("semantic               2      0"), std::string::npos) << summary;
    // A failure not retried yet stays one failed pair, counted once however often it failed.
    const fs::path dir2 = run_dir(t, "run2", {result_to_line(failed), result_to_line(failed)});
    EXPECT_NE(run_summary(read_results(dir2 / "results.jsonl"), {"semantic"})
                  .find("semantic               1      1"),
              std::string::npos);
}

}  // namespace
}  // namespace rdic
