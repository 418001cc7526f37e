// The rdic binary as a user runs it: exit status, one-line errors, output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"
#include "support/gguf_writer.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using rdic::test::CliRun;
using rdic::test::run_rdic;
using rdic::test::run_rdic_env;

size_t count_lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

class Cli : public ::testing::Test {
protected:
    rdic::test::TempDir tmp_;  // this test's own directory, removed afterwards
    const fs::path& dir_ = tmp_.path();
};

TEST_F(Cli, Version) {
    const CliRun r = run_rdic("--version");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("rdic 0."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("llama.cpp"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("device CPU"), std::string::npos) << r.out;
}

TEST_F(Cli, InfoOnDefaultModel) {
    // The default is the instruction-tuned Qwen2.5-Coder-0.5B-Instruct with its ChatML template.
    const CliRun r = run_rdic("info");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("qwen2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sliding window 0 tokens; none"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("chat template  present in GGUF"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << "llama.cpp's log must not leak to stderr:\n" << r.err;
}

TEST_F(Cli, ModelsListsKnownModelsAndWhere) {
    const CliRun r = run_rdic("models --json");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["cache_dir"], rdic::model_cache_dir().string());
    ASSERT_GE(j["models"].size(), 4u);
    EXPECT_EQ(j["models"][0]["role"], "default");
    EXPECT_EQ(j["models"][0]["file"], rdic::build_info::kDefaultModelFile);
    EXPECT_EQ(j["models"][0]["status"], "installed");  // setup.sh fetched it
    EXPECT_EQ(j["models"][1]["install"], "RDIC_WITH_LARGE_MODEL=1 ./scripts/setup.sh");
    // A model cache without the models says what is missing and how to get it.
    const CliRun empty = run_rdic_env("RDIC_MODELS=" + (dir_ / "empty").string(), "models");
    ASSERT_EQ(empty.status, 0) << empty.err;
    EXPECT_NE(empty.out.find(std::string("default: ") + rdic::build_info::kDefaultModelFile +
                             "  [missing]  get: ./scripts/setup.sh"),
              std::string::npos)
        << empty.out;
}

TEST_F(Cli, InfoJson) {
    const CliRun r =
        run_rdic("info --json --model " +
                 (rdic::model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf").string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"architecture\": \"llama\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"has_chat_template\": true"), std::string::npos) << r.out;
}

TEST_F(Cli, MissingModelIsOneLineExit3) {
    const CliRun r = run_rdic("info --model " + (dir_ / "missing.gguf").string());
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
}

TEST_F(Cli, TruncatedModelIsOneLineExit4) {
    const fs::path cut = dir_ / "cut.gguf";
    const fs::path src = rdic::model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf";
    rdic::test::copy_prefix(src, cut, fs::file_size(src) - 1000);
    const CliRun r = run_rdic("generate --prompt hi --model " + cut.string());
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(Cli, UnsupportedArchitectureIsOneLineExit5) {
    const fs::path p = dir_ / "alien.gguf";
    rdic::test::unknown_architecture_gguf().save(p);
    const CliRun r = run_rdic("info --model " + p.string());
    EXPECT_EQ(r.status, 5);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("rdic-unknown-arch"), std::string::npos) << r.err;
}

TEST_F(Cli, BadArgumentsExit2) {
    EXPECT_EQ(run_rdic("generate").status, 2);  // --prompt is required
    EXPECT_EQ(run_rdic("generate --prompt x --top-p 0").status, 2);
    EXPECT_EQ(run_rdic("no-such-command").status, 2);
}

// serve and bench check --flash-attn with the engine's one parser: one line naming the flag, the
// value and the accepted values, before any model is loaded.
TEST_F(Cli, FlashAttnIsRefusedOnceTheSameWayByServeAndBench) {
    for (const char* cmd : {"serve", "bench"}) {
        const CliRun r = run_rdic(std::string(cmd) + " --flash-attn maybe");
        EXPECT_EQ(r.status, 2) << cmd << ": " << r.err;
        EXPECT_NE(r.err.find("--flash-attn: flash attention 'maybe' (expected auto, on, off)"),
                  std::string::npos)
            << cmd << ": " << r.err;
    }
}

TEST_F(Cli, GenerateIsReproducibleWithSeed) {
    const std::string args =
        "generate --raw --prompt 'The three primary colours are' --max-tokens 12 "
        "--temperature 0.8 --seed 7";
    const CliRun a = run_rdic(args);
    const CliRun b = run_rdic(args);
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_FALSE(a.out.empty());
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.err.find("tok/s"), std::string::npos) << a.err;
}

}  // namespace

// ---- rdic validate / rdic run -------------------------------------------------------------------

namespace {

// The smallest model for tests about the run's mechanics, not about what a model writes.
const std::string kFast = " --model " +
                          (rdic::model_cache_dir() / rdic::build_info::kSmolModelFile).string() +
                          " --answer-tokens 4 ";

const std::string kTwoExamples = std::string(RDIC_DATA_DIR) + "/dev/edu-02.json " +
                                 std::string(RDIC_DATA_DIR) + "/dev/fin-01.json";

std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

// (example, condition) of every line with "status":"ok".
std::multiset<std::string> ok_pairs(const fs::path& results) {
    std::multiset<std::string> out;
    for (const std::string& l : read_lines(results)) {
        if (l.find("\"status\":\"ok\"") == std::string::npos) continue;
        const auto field = [&](const std::string& key) {
            const auto at = l.find("\"" + key + "\":\"");
            if (at == std::string::npos) return std::string();
            const auto b = at + key.size() + 4;
            return l.substr(b, l.find('"', b) - b);
        };
        out.insert(field("example_id") + "/" + field("condition"));
    }
    return out;
}

}  // namespace

TEST_F(Cli, ValidateShippedDataAndReportBadFile) {
    const CliRun ok = run_rdic("validate " + std::string(RDIC_DATA_DIR));
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
    EXPECT_NE(ok.err.find("0 problems"), std::string::npos) << ok.err;

    const fs::path bad = dir_ / "bad.json";
    std::ofstream(bad) << R"({"format": "rdic.dataset/v1", "id": "x", "clusters": 3, "turns": []})";
    const CliRun r = run_rdic("validate " + bad.string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find(bad.string() + ": /clusters: must be an array, not an integer"),
              std::string::npos)
        << r.out;
}

TEST_F(Cli, RunTwoExamplesFiveConditions) {
    const fs::path out = dir_ / "run";
    // Gemma 270M generates and judges here (fast); the questions get 4 tokens each.
    const std::string gemma =
        (rdic::model_cache_dir() / rdic::build_info::kGemmaModelFile).string();
    const CliRun r =
        run_rdic("run --max-tokens 4 --answer-tokens 4 --model " + gemma + " --judge " + gemma +
                 " --out " + out.string() + " --data " + kTwoExamples);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = read_lines(out / "results.jsonl");
    EXPECT_EQ(lines.size(), 10u);
    EXPECT_EQ(ok_pairs(out / "results.jsonl").size(), 10u);
    for (const std::string& l : lines) {
        for (const char* key :
             {"\"outputs\"", "\"kv\"", "\"peak_bytes\"", "\"timing\"", "\"ttft_ms\"",
              "\"sha256_prefix\":\"a5fd3b62230aa5ec\"", "\"architecture\":\"gemma3\"",
              "\"llama_cpp_pinned\"", "\"max_tokens\":4"}) {
            EXPECT_NE(l.find(key), std::string::npos) << key << " missing in " << l.substr(0, 200);
        }
    }
    for (const std::string& l : lines) {
        // The KV layout follows what the outputs share: semantic's own streams, one pool for the
        // baselines (separate_contexts: a context per cluster, one sequence each).
        const auto j = nlohmann::json::parse(l);
        const std::string want =
            j["condition"] == "semantic" ? "per_sequence" : std::string("unified");
        EXPECT_EQ(j["kv"]["layout"], want) << j["condition"];
        EXPECT_EQ(j["config"]["kv_layout"], "auto");
    }
    EXPECT_TRUE(fs::exists(out / "config.json"));
    EXPECT_NE(r.out.find("separate_contexts"), std::string::npos) << "summary table: " << r.out;
    EXPECT_NE(r.out.find("KV tokens"), std::string::npos) << r.out;

    // The run evaluated itself: per output a contamination record, reference similarity and
    // embedding records where the cluster has a reference, and a judge record; then the reports.
    size_t n_outputs = 0, n_answers = 0;
    std::set<std::string> clusters;  // example|cluster
    for (const std::string& l : lines) {
        const auto j = nlohmann::json::parse(l);
        n_outputs += j["outputs"].size();
        n_answers += j["answers"].size();
        for (const auto& o : j["outputs"]) {
            clusters.insert(j["example_id"].get<std::string>() + "|" +
                            o["cluster"].get<std::string>());
            const double copy = o["prompt_copy_share"];
            EXPECT_TRUE(copy >= 0 && copy <= 1) << copy;
        }
        // Every condition answered every question of the example (dataset v2).
        EXPECT_GE(j["answers"].size(), 9u) << j["condition"];
        EXPECT_EQ(j["config"]["answer_tokens"], 4);
    }
    ASSERT_GE(n_outputs, 30u);  // 2 examples x 5 conditions x 3-4 outputs
    const auto metrics = read_lines(out / "metrics.jsonl");
    std::map<std::string, size_t> per_set;
    for (const std::string& m : metrics) {
        const auto at = m.find("\"metric_set\":\"");
        ASSERT_NE(at, std::string::npos) << m;
        ++per_set[m.substr(at + 14, m.find('"', at + 14) - at - 14)];
        if (m.find("\"condition\":\"semantic\"") != std::string::npos &&
            m.find("\"kind\":\"topic\"") != std::string::npos &&
            m.find("contamination/v1") != std::string::npos) {
            EXPECT_NE(m.find("\"leaked_canaries\":[]"), std::string::npos) << m;
        }
        if (m.find("judge/v1") != std::string::npos) {
            EXPECT_NE(m.find("\"prompt_version\":\"judge/v1\""), std::string::npos) << m;
            EXPECT_NE(m.find("\"judge_model\":{"), std::string::npos) << m;
            EXPECT_EQ(m.find("\"raw\":\"{\\\"relevance\\\": "), m.find("\"raw\":")) << m;
        }
    }
    // The copy control adds copy_own and copy_all texts for every (example, cluster).
    EXPECT_EQ(per_set["contamination/v1"], n_outputs + 2 * clusters.size());
    EXPECT_EQ(per_set["questions/v1"], n_answers);
    EXPECT_EQ(per_set["judge/v1"], n_outputs);
    // Every cluster has a reference; the copy control's texts get text metrics, no embeddings.
    EXPECT_EQ(per_set["similarity/v1"], per_set["embedding/v1"] + 2 * clusters.size());
    EXPECT_GE(per_set["similarity/v1"], n_outputs * 2 / 3);  // every topic output has a reference
    EXPECT_TRUE(fs::exists(out / "report.md"));
    EXPECT_TRUE(fs::exists(out / "report.html"));
    EXPECT_NE(r.out.find("Foreign terms / 100 words"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Question accuracy"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| copy_own |"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| copy_all |"), std::string::npos) << r.out;

    // eval again: nothing recomputed, nothing duplicated.
    const CliRun e = run_rdic("eval --results " + out.string());
    ASSERT_EQ(e.status, 0) << e.err;
    EXPECT_NE(e.out.find("nothing new"), std::string::npos) << e.out;
    EXPECT_EQ(read_lines(out / "metrics.jsonl").size(), metrics.size());
    EXPECT_EQ(run_rdic("eval --results " + (dir_ / "nowhere").string()).status, 3);

    // rdic report in every format.
    const CliRun csv = run_rdic("report --format csv --results " + out.string());
    ASSERT_EQ(csv.status, 0) << csv.err;
    EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')),
              "run,example_id,condition,cluster,kind,metric,value");
    EXPECT_GT(count_lines(csv.out), metrics.size());
    const CliRun js = run_rdic("report --format json --results " + out.string());
    ASSERT_EQ(js.status, 0) << js.err;
    EXPECT_NE(js.out.find("\"schema\": \"rdic.report/v1\""), std::string::npos);
    EXPECT_NE(js.out.find("\"baseline\": \"sequential\""), std::string::npos);
    const CliRun bad = run_rdic("report --format pdf --results " + out.string());
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("pdf"), std::string::npos) << bad.err;
}

TEST_F(Cli, FailedEvaluationKeepsTheResults) {
    const fs::path out = dir_ / "evalfail";
    const CliRun r = run_rdic("run --max-tokens 2" + kFast + "--conditions semantic --out " +
                              out.string() + " --judge " + (dir_ / "no-judge.gguf").string() +
                              " --data " + std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("results are kept in " + out.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no-judge.gguf"), std::string::npos) << r.err;
    EXPECT_EQ(ok_pairs(out / "results.jsonl").size(), 1u);
    // The metrics computed before the judge failed are kept, and a later eval completes them.
    EXPECT_FALSE(read_lines(out / "metrics.jsonl").empty());
    const CliRun e = run_rdic("eval --no-judge --results " + out.string());
    EXPECT_EQ(e.status, 0) << e.err;
}

TEST_F(Cli, EvalAfterAKilledEvalLosesNoRecord) {
    // An eval killed mid-write leaves half a line at the end of metrics.jsonl. The next eval must
    // start its records on a new line: appended to the fragment, the first would be unreadable.
    const fs::path out = dir_ / "halfline";
    const CliRun r =
        run_rdic("run --no-eval --max-tokens 2" + kFast + "--conditions semantic --out " +
                 out.string() + " --data " + std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    ASSERT_EQ(r.status, 0) << r.err;
    const CliRun first = run_rdic("eval --no-judge --no-embed --results " + out.string());
    ASSERT_EQ(first.status, 0) << first.err;
    std::vector<nlohmann::json> records;
    for (const std::string& l : read_lines(out / "metrics.jsonl")) {
        auto j = nlohmann::json::parse(l, nullptr, false);
        if (!j.is_discarded()) records.push_back(std::move(j));
    }
    const auto moved = std::find_if(records.begin(), records.end(), [](const nlohmann::json& j) {
        return j["metric_set"] == "contamination/v1";
    });
    ASSERT_NE(moved, records.end());
    const auto same_output = [&](const nlohmann::json& j) {
        return j.value("metric_set", "") == "contamination/v1" &&
               j["example_id"] == (*moved)["example_id"] &&
               j["condition"] == (*moved)["condition"] && j["cluster"] == (*moved)["cluster"];
    };
    {
        std::ofstream f(out / "metrics.jsonl", std::ios::trunc | std::ios::binary);
        for (auto it = records.begin(); it != records.end(); ++it) {
            if (it != moved) f << it->dump() << '\n';
        }
        const std::string line = moved->dump();
        f << line.substr(0, line.size() / 2);  // the killed write
    }
    const CliRun e = run_rdic("eval --no-judge --no-embed --results " + out.string());
    ASSERT_EQ(e.status, 0) << e.err;
    size_t found = 0;
    for (const std::string& l : read_lines(out / "metrics.jsonl")) {
        const auto j = nlohmann::json::parse(l, nullptr, false);
        if (!j.is_discarded() && same_output(j)) ++found;
    }
    EXPECT_EQ(found, 1u) << "the record of the killed write is computed again, readable";
}

TEST_F(Cli, ResumeAfterKillLosesOnlyThePairInFlight) {
    const fs::path out = dir_ / "killed";
    const fs::path results = out / "results.jsonl";
    const std::string args = "run --no-eval --max-tokens 24" + kFast + "--out " + out.string() +
                             " --data " + kTwoExamples;
    // Start a run and kill it hard once two pairs are recorded.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::freopen("/dev/null", "w", stdout);
        ::freopen("/dev/null", "w", stderr);
        ::execl("/bin/sh", "sh", "-c", ("exec " + std::string(RDIC_BINARY) + " " + args).c_str(),
                nullptr);
        ::_exit(127);
    }
    // Bounded (10 minutes) but generous: a loaded 2-core machine took 82 s for two pairs.
    for (int i = 0; i < 12000 && read_lines(results).size() < 2; ++i) ::usleep(50 * 1000);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    const auto before = ok_pairs(results);
    ASSERT_GE(before.size(), 2u);
    ASSERT_LT(before.size(), 10u) << "the run finished before it could be killed";
    // Simulate a kill in the middle of writing a record, too.
    std::ofstream(results, std::ios::app) << R"({"example_id":"edu-02","condi)";

    const CliRun r = run_rdic(args + " --resume");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find(std::to_string(before.size()) + " pairs already done"), std::string::npos)
        << r.err;
    const auto after = ok_pairs(results);
    EXPECT_EQ(after.size(), 10u);
    for (const std::string& p : after) EXPECT_EQ(after.count(p), 1u) << p << " recorded twice";
}

TEST_F(Cli, RunRejectsUnknownCondition) {
    const CliRun r = run_rdic("run --conditions sequential,isolated --data " + kTwoExamples);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("unknown condition 'isolated'"), std::string::npos) << r.err;
}

// --backend options are checked before anything is loaded or sent; secrets are never echoed.
// (Runs against a real engine: tests/server, label server.)
TEST_F(Cli, RunBackendOptionsAreRefusedClearly) {
    const std::string base =
        "run --no-eval" + kFast + "--conditions semantic --out " + (dir_ / "b").string() + " ";
    const CliRun https = run_rdic(base + "--backend https://127.0.0.1:1");
    EXPECT_EQ(https.status, 2) << https.err;
    EXPECT_NE(https.err.find("--backend https://127.0.0.1:1: https is not supported"),
              std::string::npos)
        << https.err;
    const CliRun creds = run_rdic(base + "--backend http://me:s3cret@127.0.0.1:1");
    EXPECT_EQ(creds.status, 2) << creds.err;
    EXPECT_EQ(creds.err.find("s3cret"), std::string::npos) << creds.err;
    const CliRun naive = run_rdic(base + "--naive --backend http://127.0.0.1:1");
    EXPECT_EQ(naive.status, 2) << naive.err;
    EXPECT_NE(naive.err.find("--naive"), std::string::npos) << naive.err;
    const CliRun missing =
        run_rdic(base + "--backend http://127.0.0.1:1 --api-key-file " + (dir_ / "no").string());
    EXPECT_EQ(missing.status, 3) << missing.err;
    EXPECT_NE(missing.err.find("--api-key-file"), std::string::npos) << missing.err;
    std::ofstream(dir_ / "two-lines") << "s3cret\nmore\n";
    const CliRun two = run_rdic(base + "--backend http://127.0.0.1:1 --api-key-file " +
                                (dir_ / "two-lines").string());
    EXPECT_EQ(two.status, 2) << two.err;
    EXPECT_EQ(two.err.find("s3cret"), std::string::npos) << two.err;
    // Nothing listens on port 1: exit 10 after the retries, naming the URL; nothing written.
    const CliRun dead = run_rdic(base + "--backend http://127.0.0.1:1 --backend-retries 1");
    EXPECT_EQ(dead.status, 10) << dead.err;
    EXPECT_NE(dead.err.find("GET http://127.0.0.1:1/v1/models: "), std::string::npos) << dead.err;
    EXPECT_NE(dead.err.find("after 2 attempts"), std::string::npos) << dead.err;
    EXPECT_FALSE(fs::exists(dir_ / "b" / "results.jsonl"));
}

TEST_F(Cli, RunKvLayoutCanBeChosen) {
    const fs::path out = dir_ / "layout";
    const CliRun r = run_rdic("run --no-eval --max-tokens 2" + kFast +
                              "--conditions semantic --kv-layout unified --out " + out.string() +
                              " --data " + std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = read_lines(out / "results.jsonl");
    ASSERT_EQ(lines.size(), 1u);
    const auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["kv"]["layout"], "unified");
    EXPECT_EQ(j["config"]["kv_layout"], "unified");
    const CliRun bad = run_rdic("run --kv-layout sideways --out " + (dir_ / "x").string());
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--kv-layout"), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(dir_ / "x"));
}

TEST_F(Cli, InvalidDataFileIsReportedAndTheRunGoesOn) {
    const fs::path bad = dir_ / "broken.json";
    std::ofstream(bad) << R"({"format": "rdic.dataset/v1", "id": "broken", "turns": [)";
    const fs::path out = dir_ / "partial";
    const CliRun r =
        run_rdic("run --no-eval --max-tokens 2" + kFast +
                 "--conditions semantic,sequential --out " + out.string() + " --data " +
                 bad.string() + " " + std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    EXPECT_EQ(r.status, 1) << "an invalid file makes the run fail, after the valid ones ran";
    EXPECT_NE(r.err.find(bad.string() + ": (file): malformed JSON"), std::string::npos) << r.err;
    EXPECT_EQ(ok_pairs(out / "results.jsonl").size(), 2u);
}

// ---- rdic cluster ------------------------------------------------------------------------------

TEST_F(Cli, ClusterLabelsAndPositionalAgainstLabels) {
    const CliRun labels = run_rdic("cluster --method labels --json --data " + kTwoExamples);
    ASSERT_EQ(labels.status, 0) << labels.err;
    const auto j = nlohmann::json::parse(labels.out);
    EXPECT_DOUBLE_EQ(j["overall"]["mean_ari"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(j["overall"]["mean_nmi"].get<double>(), 1.0);
    ASSERT_EQ(j["examples"].size(), 2u);
    for (const auto& e : j["examples"]) {
        ASSERT_GT(e["assignment"].size(), 0u);
        for (const auto& t : e["assignment"]) EXPECT_EQ(t["cluster"], t["label"]) << t.dump();
    }
    const CliRun pos = run_rdic("cluster --method positional --data " + kTwoExamples);
    ASSERT_EQ(pos.status, 0) << pos.err;
    EXPECT_NE(pos.out.find("overall (2 examples): mean ARI"), std::string::npos) << pos.out;
    EXPECT_NE(pos.out.find("*"), std::string::npos) << "blocks disagree with interleaved labels";
    const CliRun pos_json = run_rdic("cluster --method positional --json --data " + kTwoExamples);
    const double ari = nlohmann::json::parse(pos_json.out)["overall"]["mean_ari"].get<double>();
    EXPECT_LT(ari, 0.9);
}

TEST_F(Cli, ClusterBadInputIsOneClearError) {
    const CliRun method = run_rdic("cluster --method kmeans --data " + kTwoExamples);
    EXPECT_EQ(method.status, 2);
    EXPECT_NE(method.err.find("unknown clustering method 'kmeans'"), std::string::npos)
        << method.err;
    const CliRun pooling =
        run_rdic("cluster --method embedding --pooling max --data " + kTwoExamples);
    EXPECT_EQ(pooling.status, 2);
    EXPECT_NE(pooling.err.find("--pooling: 'max' is not mean or last"), std::string::npos)
        << pooling.err;
    const fs::path missing = dir_ / "nope.json";
    const CliRun none = run_rdic("cluster --data " + missing.string());
    EXPECT_EQ(none.status, 2);
    EXPECT_NE(none.err.find(missing.string()), std::string::npos) << none.err;
    EXPECT_NE(none.err.find("no valid examples"), std::string::npos) << none.err;
    const fs::path bad = dir_ / "bad.json";
    std::ofstream(bad) << R"({"format": "rdic.dataset/v1", "id": "x", "clusters": 3, "turns": []})";
    const CliRun mixed = run_rdic("cluster --method random --data " + bad.string() + " " +
                                  std::string(RDIC_DATA_DIR) + "/dev/fin-01.json");
    EXPECT_EQ(mixed.status, 1) << "an invalid file fails the command after the valid ones";
    EXPECT_NE(mixed.err.find(bad.string() + ": /clusters: must be an array"), std::string::npos)
        << mixed.err;
    EXPECT_NE(mixed.out.find("fin-01"), std::string::npos) << mixed.out;
}

TEST_F(Cli, ClusterOnlineRoutesUserTurnsOneByOne) {
    // The lexical router needs no model: every user turn routed, assistant turns follow the
    // turn before them, the routing time and per-turn details reported.
    const CliRun r = run_rdic("cluster --method online --router lexical --json --data " +
                              std::string(RDIC_DATA_DIR) + "/dev/edu-01.json");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["parameters"]["router"], "lexical");
    EXPECT_EQ(j["parameters"]["shift_cues"], "on");
    EXPECT_EQ(j["model"], "") << "no model loaded for the lexical router";
    const auto& e = j["examples"][0];
    // edu-01 is in blocks announced by "Second thing, ..." and "Third, ...": all three found.
    EXPECT_DOUBLE_EQ(e["ari"].get<double>(), 1.0) << r.out;
    int n_routed = 0;
    for (const auto& t : e["assignment"]) n_routed += t.contains("route");
    EXPECT_EQ(n_routed, e["n_routed"].get<int>());
    EXPECT_EQ(n_routed, 15) << "18 turns: 1 synthesis request and 2 assistant replies not routed";
    EXPECT_GE(j["overall"]["route_ms_per_turn"].get<double>(), 0.0);

    const CliRun bad = run_rdic("cluster --method online --router kmeans --data " + kTwoExamples);
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("unknown router 'kmeans'"), std::string::npos) << bad.err;
}

TEST_F(Cli, RunRecordsTheClusteringItRanWith) {
    const std::string data = std::string(RDIC_DATA_DIR) + "/dev/fin-01.json";
    const fs::path out = dir_ / "clustered";
    const CliRun r =
        run_rdic("run --clusters positional --conditions semantic --max-tokens 2 --no-judge" +
                 kFast + "--out " + out.string() + " --data " + data);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = read_lines(out / "results.jsonl");
    ASSERT_EQ(lines.size(), 1u);
    const auto rec = nlohmann::json::parse(lines[0]);
    ASSERT_TRUE(rec.contains("clustering")) << lines[0];
    EXPECT_EQ(rec["clustering"]["method"], "positional");
    const CliRun c = run_rdic("cluster --method positional --json --data " + data);
    const auto cj = nlohmann::json::parse(c.out)["examples"][0];
    EXPECT_DOUBLE_EQ(rec["clustering"]["ari"].get<double>(), cj["ari"].get<double>());
    // The run's clusters are the positional blocks (matched to labels), turn by turn.
    ASSERT_EQ(rec["clustering"]["assignment"].size(), cj["assignment"].size());
    for (size_t i = 0; i < cj["assignment"].size(); ++i) {
        EXPECT_EQ(rec["clustering"]["assignment"][i]["cluster"], cj["assignment"][i]["cluster"]);
    }
    // Every topic output is one of the clusters the turns were put in.
    std::set<std::string> clusters;
    for (const auto& t : cj["assignment"]) clusters.insert(t["cluster"].get<std::string>());
    for (const auto& o : rec["outputs"]) {
        if (o["kind"] == "topic") {
            EXPECT_TRUE(clusters.count(o["cluster"])) << o.dump();
        }
    }
    std::ifstream config_file(out / "config.json");
    const auto config = nlohmann::json::parse(config_file);
    EXPECT_EQ(config["config"]["clusters"], "positional");
}

TEST_F(Cli, ClusterLexicalNeedsNoModelAndDetectsSynthesis) {
    // mfg-05 keeps its three topics in blocks whose vocabularies TF-IDF still separates exactly
    // (dataset v2 made most examples share attribute wording across topics on purpose, which
    // lowers lexical clustering's ARI: docs/clustering.md).
    const std::string data = std::string(RDIC_DATA_DIR) + "/dev/mfg-05.json";
    const CliRun r =
        run_rdic("cluster --method lexical --json --model /nonexistent.gguf --data " + data);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_DOUBLE_EQ(j["examples"][0]["ari"].get<double>(), 1.0);
    EXPECT_EQ(j["overall"]["synthesis_detection"]["true_positives"], 2);  // both synthesis turns
    EXPECT_EQ(j["overall"]["synthesis_detection"]["false_positives"], 0);
    const auto& last = j["examples"][0]["assignment"].back();
    EXPECT_EQ(last["cluster"], "synth");
    EXPECT_EQ(last["synthesis_rule"], "follow-up");
}

TEST_F(Cli, LongVariantsHoldMoreThan4KTokensWithTheDefaultTokenizer) {
    // data/test-long grows every test example past 4K tokens (dataset v2): a context of 4,096
    // tokens must be too small for each of them, and the short originals must fit.
    const std::string long_dir = std::string(RDIC_DATA_DIR) + "/test-long";
    const CliRun r = run_rdic("validate --check-context --context 4096 " + long_dir);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("25 files, 0 valid, 25 problems"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("lgs-10.json: /turns: all turns together are"), std::string::npos)
        << r.out;
    const CliRun s =
        run_rdic("validate --check-context --context 4096 " + std::string(RDIC_DATA_DIR) + "/test");
    EXPECT_EQ(s.status, 0) << s.out;
}
