// Issue 14's findings as a user meets them with the real binary: records that cannot be mixed,
// duplicated or silently wrong, a writer lock per results directory, limits before decoding, and
// clear refusals of surprising arguments. Each test names the finding it covers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"
#include "rdic/records/files.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using rdic::test::CliRun;
using rdic::test::run_rdic;

const std::string kSmol = (rdic::model_cache_dir() / rdic::build_info::kSmolModelFile).string();
const std::string kGemma = (rdic::model_cache_dir() / rdic::build_info::kGemmaModelFile).string();
const std::string kFin = std::string(RDIC_DATA_DIR) + "/dev/fin-01.json";
const std::string kEdu = std::string(RDIC_DATA_DIR) + "/dev/edu-02.json";

std::vector<nlohmann::json> records(const fs::path& file) {
    std::vector<nlohmann::json> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        // A line being written while a test polls may be incomplete: left out.
        auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class RecordsCli : public ::testing::Test {
protected:
    rdic::test::TempDir tmp_;  // this test's own directory, removed afterwards
    const fs::path& dir_ = tmp_.path();
    // A short run of fin-01 under semantic with SmolLM2 (2 tokens per output), no evaluation.
    CliRun quick_run(const fs::path& out, const std::string& extra = "") {
        return run_rdic(
            "run --no-eval --max-tokens 2 --answer-tokens 2 --conditions semantic "
            "--model " +
            kSmol + " --data " + kFin + " --out " + out.string() + " " + extra);
    }
};

// Finding 1: a turn of 1 MB prefilled for minutes; now each pair fails at once and the run goes on.
TEST_F(RecordsCli, AnOversizedTurnFailsItsPairsAndTheRunGoesOn) {
    nlohmann::json ex = nlohmann::json::parse(std::ifstream(kFin));
    ex["id"] = "fin-huge";
    std::string huge;
    while (huge.size() < (1u << 20)) huge += "The ledger lists invoice 4471 twice. ";
    ex["turns"][1]["text"] = ex["turns"][1]["text"].get<std::string>() + " " + huge;
    const fs::path big = dir_ / "fin-huge.json";
    std::ofstream(big) << ex.dump();
    const fs::path out = dir_ / "run";
    const CliRun r = run_rdic(
        "run --no-eval --max-tokens 2 --answer-tokens 2 --conditions "
        "semantic,sequential --model " +
        kSmol + " --data " + big.string() + " " + kFin + " --out " + out.string());
    EXPECT_EQ(r.status, 1) << r.err;
    int failed = 0, ok = 0;
    for (const auto& j : records(out / "results.jsonl")) {
        if (j["example_id"] == "fin-huge") {
            ++failed;
            EXPECT_EQ(j["status"], "error");
            const std::string e = j["error"];
            EXPECT_NE(e.find("fin-huge.json: turn "), std::string::npos) << e;
            EXPECT_NE(e.find("tokens; the model's context is"), std::string::npos) << e;
        } else {
            ok += j["status"] == "ok";
        }
    }
    EXPECT_EQ(failed, 2);
    EXPECT_EQ(ok, 2);
    EXPECT_NE(r.err.find("2 pairs failed"), std::string::npos) << r.err;
}

// Finding 3: two runs on one --out both wrote every pair; a second writer is now refused.
TEST_F(RecordsCli, ASecondWriterOnOneDirectoryIsRefusedWithTheHoldersPid) {
    const fs::path out = dir_ / "run";
    fs::create_directories(out);
    {
        const rdic::ResultsDirLock held(out, "run");
        const CliRun r = quick_run(out);
        EXPECT_EQ(r.status, 2);
        EXPECT_NE(r.err.find("in use by PID " + std::to_string(::getpid())), std::string::npos)
            << r.err;
        const CliRun e = run_rdic("eval --no-judge --no-embed --results " + out.string());
        EXPECT_EQ(e.status, 2);
        EXPECT_NE(e.err.find("in use by PID"), std::string::npos) << e.err;
        EXPECT_FALSE(fs::exists(out / "results.jsonl"));
    }
    ASSERT_EQ(quick_run(out).status, 0);
    // Run again on a directory holding results, without --resume: refused, nothing appended.
    const CliRun again = quick_run(out);
    EXPECT_EQ(again.status, 2);
    EXPECT_NE(again.err.find("already holds results; pass --resume"), std::string::npos)
        << again.err;
    EXPECT_EQ(records(out / "results.jsonl").size(), 1u);
}

// Findings 4 and 5: --resume with another model or token limit appended to the run; a resume
// with nothing left rewrote summary.txt with the header only.
TEST_F(RecordsCli, ResumeRefusesOtherSettingsAndKeepsTheWholeSummary) {
    const fs::path out = dir_ / "run";
    ASSERT_EQ(quick_run(out).status, 0);
    const CliRun tokens = run_rdic(
        "run --resume --no-eval --max-tokens 3 --answer-tokens 2 "
        "--conditions semantic --model " +
        kSmol + " --data " + kFin + " --out " + out.string());
    EXPECT_EQ(tokens.status, 2);
    EXPECT_NE(tokens.err.find("max_tokens: 2 vs 3"), std::string::npos) << tokens.err;
    const CliRun model = run_rdic(
        "run --resume --no-eval --max-tokens 2 --answer-tokens 2 "
        "--conditions semantic --model " +
        kGemma + " --data " + kFin + " --out " + out.string());
    EXPECT_EQ(model.status, 2);
    EXPECT_NE(model.err.find("model: SmolLM2"), std::string::npos) << model.err;
    const CliRun data = quick_run(out, "--resume --data " + kEdu);
    EXPECT_EQ(data.status, 2);
    EXPECT_NE(data.err.find("edu-02.json was not in the run"), std::string::npos) << data.err;
    EXPECT_EQ(records(out / "results.jsonl").size(), 1u);

    const CliRun same = quick_run(out, "--resume");
    ASSERT_EQ(same.status, 0) << same.err;
    EXPECT_NE(same.err.find("1 pairs already done"), std::string::npos) << same.err;
    const std::string summary = read_text(out / "summary.txt");
    EXPECT_NE(summary.find("semantic               1      0"), std::string::npos) << summary;

    // Finding 4: report over a SmolLM2 run and a Gemma run averaged them as seeds.
    const fs::path gemma = dir_ / "gemma";
    ASSERT_EQ(run_rdic("run --no-eval --max-tokens 2 --answer-tokens 2 --conditions semantic "
                       "--model " +
                       kGemma + " --data " + kFin + " --out " + gemma.string())
                  .status,
              0);
    const CliRun mixed = run_rdic("report --results " + out.string() + " " + gemma.string());
    EXPECT_EQ(mixed.status, 2);
    EXPECT_NE(mixed.err.find("differ in more than the seed (model: "), std::string::npos)
        << mixed.err;
    const CliRun allowed =
        run_rdic("report --allow-mixed --results " + out.string() + " " + gemma.string());
    EXPECT_EQ(allowed.status, 0) << allowed.err;
    EXPECT_NE(allowed.out.find("Mixed runs"), std::string::npos);

    // Finding 2: a garbage line is refused with file, line and pointer, not averaged.
    std::ofstream(out / "results.jsonl", std::ios::app)
        << R"({"status":"ok","example_id":"fin-01","condition":"semantic"})"
        << "\n";
    const CliRun garbage = run_rdic("report --results " + out.string());
    EXPECT_EQ(garbage.status, 4);
    EXPECT_NE(garbage.err.find("results.jsonl:2: /schema: missing"), std::string::npos)
        << garbage.err;
    // Finding 8: a bogus reference condition is refused.
    const CliRun bogus = run_rdic("report --reference bogus --results " + gemma.string());
    EXPECT_EQ(bogus.status, 2);
    EXPECT_NE(bogus.err.find("--reference 'bogus' is not a condition"), std::string::npos);
}

// Finding 6: records stored data/... relative to the working directory; eval from elsewhere
// wrote nothing and exited 0.
TEST_F(RecordsCli, EvalFindsTheDataFromAnyDirectoryAndFailsWhenItCannot) {
    fs::create_directories(dir_ / "data");
    fs::copy_file(kFin, dir_ / "data" / "fin-01.json");
    const fs::path cwd = fs::current_path();
    fs::current_path(dir_);
    const CliRun r = run_rdic(
        "run --no-eval --max-tokens 2 --answer-tokens 2 --conditions "
        "semantic --model " +
        kSmol + " --data data/fin-01.json --out results/r");
    fs::current_path("/");
    const fs::path out = dir_ / "results" / "r";
    const CliRun e = run_rdic("eval --no-judge --no-embed --results " + out.string());
    fs::current_path(cwd);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(e.status, 0) << e.err;
    EXPECT_GT(records(out / "metrics.jsonl").size(), 0u);
    // The data gone: a non-zero exit naming the file, not "success" with nothing scored.
    fs::remove_all(dir_ / "data");
    const CliRun gone = run_rdic("eval --no-judge --no-embed --results " + out.string());
    EXPECT_EQ(gone.status, 3);
    EXPECT_NE(gone.err.find("fin-01.json"), std::string::npos) << gone.err;
    EXPECT_NE(gone.err.find("could not be scored"), std::string::npos) << gone.err;
}

// Finding 8: --limit 0/-1 ran everything, a repeated condition ran twice, --threads 100000 threw
// std::bad_alloc.
TEST_F(RecordsCli, SurprisingArgumentsAreRefusedWithAClearRule) {
    const fs::path out = dir_ / "x";
    for (const char* a : {"--limit 0", "--limit -1", "--threads 100000"}) {
        const CliRun r = quick_run(out, std::string(a));
        EXPECT_EQ(r.status, 2) << a;
        EXPECT_EQ(r.err.find("bad_alloc"), std::string::npos) << r.err;
    }
    const CliRun twice = run_rdic("run --no-eval --conditions semantic,semantic --model " + kSmol +
                                  " --data " + kFin + " --out " + out.string());
    EXPECT_EQ(twice.status, 2);
    EXPECT_NE(twice.err.find("--conditions: 'semantic' is given twice"), std::string::npos)
        << twice.err;
    EXPECT_FALSE(fs::exists(out / "results.jsonl"));
}

// Finding 8: Ctrl-C exited 130 silently.
TEST_F(RecordsCli, CtrlCKeepsTheRecordsAndSaysHowToResume) {
    const fs::path out = dir_ / "run";
    const fs::path err = dir_ / "stderr.txt";
    const std::string args = "run --no-eval --max-tokens 16 --answer-tokens 2 --model " + kSmol +
                             " --data " + kFin + " " + kEdu + " --out " + out.string();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        (void)!::freopen("/dev/null", "w", stdout);
        (void)!::freopen(err.c_str(), "w", stderr);
        ::execl("/bin/sh", "sh", "-c", ("exec " + std::string(RDIC_BINARY) + " " + args).c_str(),
                nullptr);
        ::_exit(127);
    }
    for (int i = 0; i < 1200 && records(out / "results.jsonl").empty(); ++i) ::usleep(50 * 1000);
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
    EXPECT_EQ(WEXITSTATUS(status), 130);
    const size_t kept = records(out / "results.jsonl").size();
    EXPECT_GE(kept, 1u);
    EXPECT_LT(kept, 10u) << "the run finished before the interrupt";
    const std::string text = read_text(err);
    EXPECT_NE(text.find("rdic: interrupted: "), std::string::npos) << text;
    EXPECT_NE(text.find("--resume --out " + out.string()), std::string::npos) << text;
    EXPECT_NE(read_text(out / "summary.txt").find("sequential"), std::string::npos);
}

// Finding 7: a symlink loop stopped validate for the whole directory; a non-UTF-8 file name
// passed validate and then failed the run with nlohmann's type_error.316.
TEST_F(RecordsCli, ValidateReportsBadEntriesOneByOneAndBytesSafe) {
    const fs::path d = dir_ / "data";
    fs::create_directories(d);
    fs::copy_file(kFin, d / "fin-01.json");
    fs::create_symlink("loop.json", d / "loop.json");
    fs::copy_file(kFin, d / "bad\xff.json");
    const CliRun v = run_rdic("validate " + d.string());
    EXPECT_EQ(v.status, 1);
    EXPECT_NE(v.out.find("loop.json: (file): cannot read (Too many levels of symbolic links)"),
              std::string::npos)
        << v.out;
    EXPECT_NE(v.out.find("bad\\xFF.json: (file): the file name is not valid UTF-8"),
              std::string::npos)
        << v.out;
    EXPECT_NE(v.err.find("1 files, 1 valid, 2 problems"), std::string::npos) << v.err;
    const fs::path out = dir_ / "run";
    const CliRun r = run_rdic(
        "run --no-eval --max-tokens 2 --answer-tokens 2 --conditions "
        "semantic --model " +
        kSmol + " --data " + d.string() + " --out " + out.string());
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.err.find("type_error"), std::string::npos) << r.err;
    EXPECT_EQ(records(out / "results.jsonl").size(), 1u);
}

// Finding 8 and the documented dataset rule: duplicate keys and an escaped NUL are refused.
TEST_F(RecordsCli, DuplicateKeysAndEscapedNulAreRefused) {
    std::string text = read_text(kFin);
    const fs::path dup = dir_ / "dup.json";
    std::ofstream(dup) << "{\"id\": \"x\", " << text.substr(text.find('{') + 1);
    const fs::path nul = dir_ / "nul.json";
    nlohmann::json j = nlohmann::json::parse(text);
    j["turns"][0]["text"] = std::string("a\0b", 3);
    std::ofstream(nul) << j.dump();
    const CliRun v = run_rdic("validate " + dup.string() + " " + nul.string());
    EXPECT_EQ(v.status, 1);
    EXPECT_NE(v.out.find("dup.json: /id: key \"id\" appears twice in one object"),
              std::string::npos)
        << v.out;
    EXPECT_NE(v.out.find("nul.json: /turns/0/text: contains a NUL character (\\u0000)"),
              std::string::npos)
        << v.out;
}

// The no-conversation control, opted into beside semantic: its records hold answers to every
// question and no outputs, eval scores its answers (and no output metric), and the report shows
// it as a control row, never as a baseline.
TEST_F(RecordsCli, TheNoConversationControlRunsBesideSemantic) {
    const fs::path out = dir_ / "control";
    const CliRun r = run_rdic(
        "run --max-tokens 2 --answer-tokens 4 --no-judge --no-embed --model " + kSmol +
        " --conditions semantic,no_conversation --out " + out.string() + " --data " + kFin);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto results = records(out / "results.jsonl");
    ASSERT_EQ(results.size(), 2u);
    size_t n_questions = 0, n_control_answers = 0;
    for (const auto& j : results) {
        EXPECT_EQ(j["status"], "ok") << j.dump().substr(0, 300);
        if (j["condition"] == "semantic") {
            n_questions = j["answers"].size();
            continue;
        }
        EXPECT_EQ(j["condition"], "no_conversation");
        EXPECT_TRUE(j["outputs"].empty());
        EXPECT_TRUE(j["kv"].is_null());  // no outputs: no output KV, absent rather than 0
        n_control_answers = j["answers"].size();
        for (const auto& a : j["answers"]) EXPECT_GT(a["n_tokens"].get<int>(), 0);
    }
    EXPECT_GE(n_questions, 9u);
    EXPECT_EQ(n_control_answers, n_questions);
    size_t control_questions = 0;
    for (const auto& m : records(out / "metrics.jsonl")) {
        if (m["condition"] != "no_conversation") continue;
        EXPECT_EQ(m["metric_set"], "questions/v1") << m.dump();
        ++control_questions;
    }
    EXPECT_EQ(control_questions, n_control_answers);
    EXPECT_NE(r.out.find("| no_conversation (control) |"), std::string::npos) << r.out;
    const CliRun e = run_rdic("eval --no-judge --no-embed --results " + out.string());
    ASSERT_EQ(e.status, 0) << e.err;
    EXPECT_NE(e.out.find("nothing new"), std::string::npos) << e.out;
    const CliRun js = run_rdic("report --format json --results " + out.string());
    ASSERT_EQ(js.status, 0) << js.err;
    EXPECT_EQ(js.out.find("\"baseline\": \"no_conversation\""), std::string::npos);
    EXPECT_NE(js.out.find("no_conversation is a control"), std::string::npos) << js.out;
    // A control only asks questions: without them it is refused, in one line.
    const CliRun none = run_rdic("run --no-questions --conditions no_conversation --out " +
                                 (dir_ / "none").string() + " --data " + kFin);
    EXPECT_EQ(none.status, 2);
    EXPECT_NE(none.err.find("--no-questions"), std::string::npos) << none.err;
}

}  // namespace

// Finding 7 (read-only --out): the refusal names the file and the OS reason (EACCES). Root
// ignores permission bits, so as root the binary runs as `nobody` through util-linux's setpriv,
// with a copy of the model it can read.
TEST_F(RecordsCli, AReadOnlyOutputDirectoryIsRefusedWithTheOsReason) {
    const fs::path ro = dir_ / "read-only";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
    const fs::path model = dir_ / "model.gguf";
    fs::copy_file(kSmol, model);
    fs::permissions(dir_, fs::perms::all & ~(fs::perms::group_write | fs::perms::others_write));
    std::string prefix;
    if (geteuid() == 0) {
        if (std::system("command -v setpriv >/dev/null") != 0) GTEST_SKIP() << "no setpriv";
        prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    }
    const std::string args = "run --no-eval --max-tokens 2 --conditions semantic --model " +
                             model.string() + " --data " + kFin + " --out ";
    for (const fs::path& out : {ro, ro / "new"}) {
        const CliRun r = rdic::test::run_rdic_env("", args + out.string(), prefix);
        EXPECT_NE(r.status, 0) << r.err;
        EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    }
}

// The negative control of issue 11 (Gemma 3 270M base, 2026-11-26) stays readable by today's
// report after tools/upgrade_records.py --early-config: its judge is flagged as uninformative.
TEST_F(RecordsCli, TheStoredNegativeControlRunIsReadByTodaysReport) {
    const fs::path stored =
        fs::path(RDIC_DATA_DIR) / ".." / "docs/results/2026-11-26-test-split-gemma270m-cpu";
    fs::copy(stored, dir_ / "run", fs::copy_options::recursive);
    ASSERT_EQ(std::system(("gzip -d " + (dir_ / "run" / "results.jsonl.gz").string() + " " +
                           (dir_ / "run" / "metrics.jsonl.gz").string())
                              .c_str()),
              0);
    const CliRun r = run_rdic("report --format json --results " + (dir_ / "run").string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto report = nlohmann::json::parse(r.out);
    EXPECT_NE(r.out.find("uninformative"), std::string::npos);
    EXPECT_NE(report.dump().find("\"pairs_ok\":125"), std::string::npos) << report.dump(1);
}

// A CPU run and a GPU run of the same settings were averaged as seeds (timings not comparable).
// The run records its device as `rdic --version` names it; a run on another device (this run's
// config.json edited to a GPU) is refused by report and --resume; an old config without the
// field stays reportable.
TEST_F(RecordsCli, ReportAndResumeRefuseAnotherDevice) {
    const fs::path out = dir_ / "run";
    ASSERT_EQ(quick_run(out).status, 0);
    const nlohmann::json config = nlohmann::json::parse(std::ifstream(out / "config.json"));
    const std::string device = config["config"].value("device", "");
    ASSERT_FALSE(device.empty()) << config.dump(1);
    const std::string version = run_rdic("--version").out;
    const std::string first = device.substr(0, device.find(" + "));
    EXPECT_NE(version.find("device " + first + "\n"), std::string::npos) << version << device;
    EXPECT_EQ(records(out / "results.jsonl").at(0)["config"]["device"], device);

    const fs::path gpu = dir_ / "gpu";
    fs::copy(out, gpu, fs::copy_options::recursive);
    nlohmann::json edited = config;
    edited["config"]["device"] = "CUDA9 (a GPU this test invents)";
    std::ofstream(gpu / "config.json", std::ios::trunc) << edited.dump(2);
    const std::string dirs = out.string() + " " + gpu.string();
    const CliRun mixed = run_rdic("report --results " + dirs);
    EXPECT_EQ(mixed.status, 2);
    EXPECT_NE(mixed.err.find("(device: \"" + device + "\" vs \"CUDA9 (a GPU this test invents)\")"),
              std::string::npos)
        << mixed.err;
    const CliRun allowed = run_rdic("report --allow-mixed --results " + dirs);
    EXPECT_EQ(allowed.status, 0) << allowed.err;
    EXPECT_NE(allowed.out.find("Mixed runs"), std::string::npos);
    const CliRun resume = quick_run(gpu, "--resume");
    EXPECT_EQ(resume.status, 2);
    EXPECT_NE(resume.err.find("device: \"CUDA9 (a GPU this test invents)\" vs \"" + device),
              std::string::npos)
        << resume.err;

    edited["config"].erase("device");  // written before config.json had a device
    std::ofstream(gpu / "config.json", std::ios::trunc) << edited.dump(2);
    const CliRun old = run_rdic("report --results " + dirs);
    EXPECT_EQ(old.status, 0) << old.err;
}
