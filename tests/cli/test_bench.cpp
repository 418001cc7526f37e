// `rdic bench` as a user runs it: a tiny workload, the JSON it writes (format rdic.bench/v1,
// docs/performance.md), and its argument errors. No timing assertions: only that every
// documented field is there and consistent with the workload asked for.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/run_cli.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using BenchRun = rdic::test::CliRun;
BenchRun rdic(const std::string& args) {
    return ::rdic::test::run_rdic(args);
}

class Bench : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rdic_bench_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Bench, TinySyntheticWorkloadWritesDocumentedJson) {
    const fs::path out = dir_ / "bench.json";
    const fs::path prompts = dir_ / "prompts.json";
    const BenchRun r = rdic(
        "bench --max-tokens 4 --repeats 2 --warmup 0 --threads 2 "
        "--conditions semantic --together --decode-batches 1,2 --decode-steps 2 "
        "--decode-context 32 --bandwidth-gbs 100 --machine test-box --out " +
        out.string() + " --dump-prompts " + prompts.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("semantic"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("roofline"), std::string::npos) << r.out;
    std::ifstream in(out);
    const json j = json::parse(in);
    EXPECT_EQ(j["format"], "rdic.bench/v1");
    EXPECT_EQ(j["machine"]["name"], "test-box");
    EXPECT_FALSE(j["machine"]["devices"].empty());
    EXPECT_GT(j["model"]["weight_bytes"].get<double>(), 0);

    // The synthetic workload has the POC's shape, checked by the model's own tokenizer.
    const json& ctx = j["workload"]["context_tokens"];
    EXPECT_NEAR(ctx["clusters"]["topic_a"].get<double>(), 420, 2);
    EXPECT_NEAR(ctx["clusters"]["topic_b"].get<double>(), 450, 2);
    EXPECT_NEAR(ctx["clusters"]["synthesis"].get<double>(), 220, 2);
    EXPECT_NEAR(ctx["shared"].get<double>(), 1090, 6);

    ASSERT_EQ(j["conditions"].size(), 1u);
    for (const json& c : j["conditions"]) {
        SCOPED_TRACE(c["condition"].get<std::string>());
        EXPECT_EQ(c["runs"].size(), 2u);  // --repeats
        const json& w = c["wall_ms"];
        EXPECT_LE(w["min"].get<double>(), w["median"].get<double>());
        EXPECT_LE(w["median"].get<double>(), w["max"].get<double>());
        EXPECT_GT(w["min"].get<double>(), 0);
        EXPECT_GT(c["prefill_tokens_per_s"]["median"].get<double>(), 0);
        EXPECT_GT(c["decode_tokens_per_s"]["median"].get<double>(), 0);
        EXPECT_GT(c["kv_peak_bytes"].get<double>(), 0);
        EXPECT_EQ(c["kv_layout"], "per_sequence");  // auto: semantic's outputs share nothing
        ASSERT_EQ(c["ttft_ms"].size(), 3u);         // two topics and the synthesis
        ASSERT_EQ(c["kv_per_sequence_bytes"].size(), 3u);
        for (const json& run : c["runs"]) {
            EXPECT_EQ(run["decode_tokens"], 12);  // fixed length: 3 outputs x 4 tokens
            for (const json& o : run["outputs"]) {
                EXPECT_EQ(o["n_tokens"], 4);
                EXPECT_GT(o["kv_bytes"].get<double>(), 0);
                EXPECT_GT(o["ttft_ms"].get<double>(), 0);
            }
        }
    }
    // Semantic outputs see only their own cluster's turns (plus template and request).
    const json& sem = j["conditions"][0]["runs"][0]["outputs"];
    EXPECT_EQ(sem[0]["cluster"], "topic_a");
    EXPECT_GE(sem[0]["n_context_tokens"].get<int>(), 420);
    EXPECT_LT(sem[0]["n_context_tokens"].get<int>(), 500);

    // --together: the batched conditions once more, in one session.
    EXPECT_EQ(j["together"]["conditions"].size(), 1u);
    EXPECT_EQ(j["together"]["runs"].size(), 2u);
    EXPECT_GT(j["totals"]["together_ms"].get<double>(), 0);

    ASSERT_EQ(j["decode"].size(), 2u);
    for (const json& d : j["decode"]) {
        EXPECT_GE(d["bytes_per_step"].get<double>(), j["model"]["weight_bytes"].get<double>());
        EXPECT_GT(d["kv_bytes_read"].get<double>(), 0);
        EXPECT_GT(d["roofline_share"].get<double>(), 0);
        EXPECT_GT(d["tokens_per_s"].get<double>(), 0);
    }
    EXPECT_EQ(j["decode"][1]["batch"], 2);
    EXPECT_TRUE(j["decode"][1].contains("speedup_vs_batch1"));

    std::ifstream pin(prompts);
    const json p = json::parse(pin);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0]["outputs"][2]["kind"], "synthesis");
    EXPECT_EQ(p[0]["outputs"][2]["message_inputs"].size(), 2u);
}

TEST_F(Bench, BadArgumentsFailWithOneLine) {
    BenchRun r = rdic("bench --kv-type q9_9 --out " + (dir_ / "x.json").string());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("q9_9"), std::string::npos) << r.err;
    r = rdic("bench --decode-batches 1,0 --out " + (dir_ / "x.json").string());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--decode-batches"), std::string::npos) << r.err;
    r = rdic("bench --flash-attn maybe --out " + (dir_ / "x.json").string());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--flash-attn"), std::string::npos) << r.err;
    r = rdic("bench --kv-layout sideways --out " + (dir_ / "x.json").string());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--kv-layout"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sideways"), std::string::npos) << r.err;
    // The no-conversation control has no outputs to time.
    r = rdic("bench --conditions semantic,no_conversation --out " + (dir_ / "x.json").string());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("no_conversation is a control"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "x.json"));
}

}  // namespace
