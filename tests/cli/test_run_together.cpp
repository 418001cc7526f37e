// `rdic run` executes the batched conditions of an example together (--together; the default
// where the weights are on a GPU, docs/experiment.md): the binary as a user runs it, against
// --separate-conditions, --resume and the default.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using rdic::test::CliRun;
using rdic::test::run_rdic;

std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

class RunTogether : public ::testing::Test {
protected:
    rdic::test::TempDir tmp_;  // this test's own directory, removed afterwards
    const fs::path& dir_ = tmp_.path();
};

// The batched conditions of an example run together in one session (--together): the records are
// those of --separate-conditions (texts, answers, prefill tokens, KV layout), each names whom it
// ran with; semantic keeps its own KV streams and so runs alone. --resume runs only the missing
// pairs, together, and refuses the other execution. Gemma 270M: its greedy tokens here are the
// same at both batch shapes (SmolLM2-135M's are not: near-ties at "I'm glad you're ...", where
// llama.cpp's batch-shape rounding decides; docs/experiment.md).
TEST_F(RunTogether, GivesTheRecordsOfSeparateConditionsAndResumes) {
    const std::string gemma =
        (rdic::model_cache_dir() / rdic::build_info::kGemmaModelFile).string();
    const std::string base = "run --no-eval --max-tokens 6 --answer-tokens 4 --model " + gemma +
                             " --conditions sequential,prompted,semantic --data " +
                             std::string(RDIC_DATA_DIR) + "/../tests/data/native_v2_small.json";
    const fs::path together = dir_ / "together", separate = dir_ / "separate";
    const CliRun a = run_rdic(base + " --together --out " + together.string());
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_NE(a.err.find("rdic: conditions of an example together (--together)"), std::string::npos)
        << a.err;
    EXPECT_NE(a.out.find("2 pairs ran together"), std::string::npos) << a.out;
    const CliRun b = run_rdic(base + " --separate-conditions --out " + separate.string());
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(b.out.find("ran together"), std::string::npos) << b.out;
    using Records = std::map<std::string, nlohmann::json>;  // example/condition -> record
    const auto records = [](const fs::path& dir) {
        Records out;
        for (const std::string& l : read_lines(dir / "results.jsonl")) {
            const auto j = nlohmann::json::parse(l);
            out[j["example_id"].get<std::string>() + "/" + j["condition"].get<std::string>()] = j;
        }
        return out;
    };
    const Records ra = records(together), rb = records(separate);
    ASSERT_EQ(ra.size(), 3u);
    ASSERT_EQ(rb.size(), 3u);
    const auto texts = [](const nlohmann::json& r, const char* list) {
        std::vector<std::string> out;
        for (const auto& x : r[list]) out.push_back(x["text"]);
        return out;
    };
    for (const auto& [pair, x] : ra) {
        SCOPED_TRACE(pair);
        const nlohmann::json& y = rb.at(pair);
        ASSERT_EQ(x["status"], "ok");
        EXPECT_EQ(texts(x, "outputs"), texts(y, "outputs"));
        EXPECT_EQ(texts(x, "answers"), texts(y, "answers"));
        EXPECT_FALSE(x["answers"].empty());
        EXPECT_EQ(x["timing"]["prefill_tokens"], y["timing"]["prefill_tokens"]);
        EXPECT_EQ(x["kv"]["layout"], y["kv"]["layout"]);
        EXPECT_TRUE(x["config"]["together"]);
        EXPECT_FALSE(y["config"]["together"]);
        EXPECT_TRUE(y["together_with"].empty());
        const std::string cond = x["condition"];
        const nlohmann::json want = cond == "semantic"     ? nlohmann::json::array()
                                    : cond == "sequential" ? nlohmann::json::array({"prompted"})
                                                           : nlohmann::json::array({"sequential"});
        EXPECT_EQ(x["together_with"], want);
    }

    // Resume with two pairs of the example missing: they run, together, and nothing else does.
    const fs::path resumed = dir_ / "resumed";
    fs::create_directories(resumed);
    fs::copy_file(together / "config.json", resumed / "config.json");
    {
        std::ofstream out(resumed / "results.jsonl");
        for (const auto& [pair, x] : ra) {
            if (pair == "unit-v2-01-long/semantic") out << x.dump() << "\n";
        }
    }
    const CliRun r = run_rdic(base + " --together --resume --out " + resumed.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("1 pairs already done"), std::string::npos) << r.err;
    const Records rr = records(resumed);
    ASSERT_EQ(read_lines(resumed / "results.jsonl").size(), 3u);
    for (const char* pair : {"unit-v2-01-long/sequential", "unit-v2-01-long/prompted"}) {
        SCOPED_TRACE(pair);
        EXPECT_EQ(texts(rr.at(pair), "outputs"), texts(rb.at(pair), "outputs"));
        EXPECT_EQ(rr.at(pair)["together_with"].size(), 1u);
    }
    const CliRun other =
        run_rdic(base + " --separate-conditions --resume --out " + resumed.string());
    EXPECT_EQ(other.status, 2) << other.err;
    EXPECT_NE(other.err.find("together: 1 vs 0"), std::string::npos) << other.err;

    // Neither flag: together only where every layer is on a GPU; the line says which, and the
    // config records what ran. Both flags at once: refused before anything loads.
    const fs::path automatic = dir_ / "auto";
    const CliRun d = run_rdic(base + " --out " + automatic.string());
    ASSERT_EQ(d.status, 0) << d.err;
    const bool on_gpu =
        d.err.find("rdic: conditions of an example together (weights on") != std::string::npos;
    EXPECT_TRUE(on_gpu ||
                d.err.find("rdic: conditions one by one (weights on the CPU") != std::string::npos)
        << d.err;
    std::ifstream config_file(automatic / "config.json");
    const auto config = nlohmann::json::parse(config_file);
    EXPECT_EQ(config["config"]["together"].get<bool>(), on_gpu);
    const CliRun both =
        run_rdic(base + " --together --separate-conditions --out " + (dir_ / "both").string());
    EXPECT_EQ(both.status, 2);
    EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
}

}  // namespace
