// A results directory's files (rdic/records/files.h and the report's reading of them): a
// torn last line, empty or misplaced results, runs that are not seeds of one setting, data
// paths relative to the directory, the writer lock, atomic writes that name the OS reason,
// bytes-safe names, the config file. The records' own fields: test_records.cpp. No model.
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
using test::error_of;
using test::run_dir;
using test::sample_config;
using test::sample_result;
using test::TempDir;

TEST(ResultsDir, ATornLastLineIsLeftOutAndCutByTheNextWriter) {
    TempDir t;
    const fs::path f = t.path() / "results.jsonl";
    const std::string line = result_to_line(sample_result("ex-1", "semantic"));
    std::ofstream(f) << line << "\n" << line.substr(0, line.size() / 2);
    ResultsLog log = read_results(f);
    EXPECT_EQ(log.records.size(), 1u);
    EXPECT_TRUE(log.torn_tail);
    {
        JsonlAppender out(f);
        out.append(result_to_line(sample_result("ex-2", "semantic")));
    }
    log = read_results(f);
    EXPECT_EQ(log.records.size(), 2u);
    EXPECT_FALSE(log.torn_tail);
    EXPECT_EQ(log.line_numbers[1], 2);
}

// Finding 8: an empty results.jsonl, one that is a directory, and a bogus --reference.
TEST(ResultsDir, EmptyOrDirectoryResultsAndAnUnknownReferenceAreRefused) {
    TempDir t;
    const fs::path empty = run_dir(t, "empty", {});
    const std::string none =
        error_of([&] { build_report({empty}, {}); }, ErrorCode::invalid_argument);
    EXPECT_NE(none.find("no records"), std::string::npos) << none;
    const fs::path asdir = t.path() / "asdir";
    fs::create_directories(asdir / "results.jsonl");
    const std::string dir = error_of([&] { build_report({asdir}, {}); }, ErrorCode::file_not_found);
    EXPECT_NE(dir.find("is a directory"), std::string::npos) << dir;
    const fs::path ok = run_dir(t, "ok", {result_to_line(sample_result("e", "semantic"))});
    ReportOptions bogus;
    bogus.reference = "bogus";
    EXPECT_NO_THROW(build_report({ok}, bogus));  // the default: no comparisons
    bogus.require_reference = true;              // a user's --reference
    const std::string ref =
        error_of([&] { build_report({ok}, bogus); }, ErrorCode::invalid_argument);
    EXPECT_NE(ref.find("--reference 'bogus' is not a condition of these runs (semantic)"),
              std::string::npos)
        << ref;
}

// Finding 4: a Gemma run and a SmolLM2 run were averaged as two seeds.
TEST(ResultsDir, RunsWithAnotherModelOrSettingAreNotSeeds) {
    TempDir t;
    ConfigRecord other = sample_config();
    other.model.file = "SmolLM2.gguf";
    other.model.sha256_prefix = "ffffffffffffffff";
    other.config.max_tokens = 256;
    ConfigRecord seed = sample_config();
    seed.config.sampling.seed = 7;
    const std::string line = result_to_line(sample_result("e", "semantic"));
    const fs::path a = run_dir(t, "a", {line});
    const fs::path b = run_dir(t, "b", {line}, other);
    const fs::path c = run_dir(t, "c", {line}, seed);
    EXPECT_EQ(build_report({a, c}, {}).runs.size(), 2u);  // seeds: fine
    const std::string w = error_of([&] { build_report({a, b}, {}); }, ErrorCode::invalid_argument);
    EXPECT_NE(w.find("model: tiny.gguf (sha256 0123456789abcdef) vs SmolLM2.gguf"),
              std::string::npos)
        << w;
    EXPECT_NE(w.find("max_tokens: 16 vs 256"), std::string::npos) << w;
    EXPECT_NE(w.find("--allow-mixed"), std::string::npos) << w;
    ReportOptions mixed;
    mixed.allow_mixed = true;
    const Report r = build_report({a, b}, mixed);
    ASSERT_FALSE(r.notes.empty());
    EXPECT_NE(r.notes[0].find("Mixed runs: a and b differ"), std::string::npos) << r.notes[0];
    EXPECT_NE(render_markdown(r).find("Mixed runs"), std::string::npos);
    // --resume compares the seed too.
    EXPECT_EQ(setting_differences(sample_config().config, sample_config().model, seed.config,
                                  seed.model, true, true),
              std::vector<std::string>{"seed: 0 vs 7"});
}

// Finding 6: data paths stored relative to the results directory work from any directory.
TEST(ResultsDir, DataFilesResolveFromTheResultsDirectoryNotTheWorkingDirectory) {
    TempDir t;
    const fs::path data = t.path() / "data" / "ex.json";
    fs::create_directories(data.parent_path());
    std::ofstream(data) << "{}";
    const fs::path results = t.path() / "results" / "run1";
    fs::create_directories(results);
    const DataFile stored = data_file_for(results, data);
    EXPECT_EQ(stored.relative, "../../data/ex.json");
    EXPECT_EQ(stored.absolute, data.string());
    const fs::path cwd = fs::current_path();
    fs::current_path("/");
    EXPECT_TRUE(fs::equivalent(resolve_data_file(results, stored), data));
    fs::current_path(cwd);
    // Moved together (results and data), the relative path still finds the file.
    fs::rename(t.path() / "data", t.path() / "moved-data");
    const DataFile moved{"../../moved-data/ex.json", "/nonexistent/ex.json"};
    EXPECT_TRUE(fs::exists(resolve_data_file(results, moved)));
}

// Finding 3: a second writer on one directory is refused with the holder's PID.
TEST(ResultsDir, ASecondWriterIsRefusedWithTheHoldersPid) {
    TempDir t;
    std::optional<ResultsDirLock> first(std::in_place, t.path(), "run");
    try {
        ResultsDirLock second(t.path(), "eval");
        ADD_FAILURE() << "two writers";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(e.what()).find("in use by PID " + std::to_string(::getpid()) +
                                             " (rdic run)"),
                  std::string::npos)
            << e.what();
    }
    first.reset();
    EXPECT_NO_THROW(ResultsDirLock(t.path(), "eval"));  // released with its holder
}

// Finding 5 and 7: a failed write names the file and the operating system's reason.
TEST(ResultsDir, AFailedWriteNamesTheFileAndTheReason) {
    try {
        JsonlAppender full("/dev/full");
        full.append("{}");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "/dev/full: write failed: No space left on device");
    }
    TempDir t;
    try {
        write_file_atomic(t.path() / "missing" / "summary.txt", "x");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("summary.txt: cannot write: No such file or directory"),
            std::string::npos)
            << e.what();
    }
    // Replaced whole: no temporary file is left behind.
    write_file_atomic(t.path() / "summary.txt", "old");
    write_file_atomic(t.path() / "summary.txt", "new");
    std::ifstream in(t.path() / "summary.txt");
    std::string s;
    std::getline(in, s);
    EXPECT_EQ(s, "new");
    EXPECT_EQ(std::distance(fs::directory_iterator(t.path()), fs::directory_iterator()), 1);
}

TEST(ResultsDir, FileNamesArePrintedBytesSafe) {
    EXPECT_EQ(printable_path("data/caf\xC3\xA9.json"), "data/caf\xC3\xA9.json");
    EXPECT_EQ(printable_path("data/\xFF\xFE.json"), "data/\\xFF\\xFE.json");
    EXPECT_EQ(printable_path("a\nb\x1b[2J"), "a\\x0Ab\\x1B[2J");
}

TEST(ResultsDir, ConfigRoundTripsAndABadOneIsNamed) {
    TempDir t;
    ConfigRecord c = sample_config();
    c.data.push_back({"../d/x.json", "/abs/d/x.json"});
    const fs::path f = t.write("config.json", config_to_text(c));
    const ConfigRecord back = read_config(f);
    EXPECT_EQ(back.model.sha256_prefix, c.model.sha256_prefix);
    EXPECT_EQ(back.data[0].relative, "../d/x.json");
    EXPECT_TRUE(
        setting_differences(back.config, back.model, c.config, c.model, true, true).empty());
    json j = json::parse(config_to_text(c));
    j["config"]["max_tokens"] = "16";
    const fs::path bad = t.write("bad.json", j.dump());
    EXPECT_NE(corrupt([&] {
                  read_config(bad);
              }).find("bad.json: /config/max_tokens: must be an integer, is string"),
              std::string::npos);
}

}  // namespace
}  // namespace rdic
