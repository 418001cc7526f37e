// The routing flags of `rdic serve` and `rdic cluster` as a user runs them: checked before any
// model loads, one clear error each; the shipped opening probes (models/probes/) load and report.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using rdic::test::CliRun;
using rdic::test::run_rdic;

class CliRouting : public ::testing::Test {
protected:
    rdic::test::TempDir tmp_;  // this test's own directory, removed afterwards
    const fs::path& dir_ = tmp_.path();
};

// The shipped probes (models/probes/README.md): one per router model.
const std::string kProbe05 =
    std::string(RDIC_SOURCE_DIR) + "/models/probes/opening-qwen2.5-coder-0.5b-hybrid.json";
const std::string kProbe15 =
    std::string(RDIC_SOURCE_DIR) + "/models/probes/opening-qwen2.5-coder-1.5b-hybrid.json";

// serve's --router takes the router names' one table: an unknown name is refused with the valid
// ones, and pair (a sequence per message of every conversation) is refused with the reason,
// before any model is loaded.
TEST_F(CliRouting, ServeRouterIsCheckedWithTheOneNameTable) {
    const CliRun unknown = run_rdic("serve --router kmeans");
    EXPECT_EQ(unknown.status, 2) << unknown.err;
    EXPECT_NE(unknown.err.find("unknown router 'kmeans' (valid: centroid"), std::string::npos)
        << unknown.err;
    const CliRun pair = run_rdic("serve --router pair");
    EXPECT_EQ(pair.status, 2) << pair.err;
    EXPECT_NE(pair.err.find("not for a server's many sessions"), std::string::npos) << pair.err;
}

// --router-model is checked before any model loads: a router without a model refuses it, a
// missing file is named with the flag.
TEST_F(CliRouting, ServeRouterModelIsCheckedFirst) {
    const CliRun lexical = run_rdic("serve --router lexical --router-model x.gguf");
    EXPECT_NE(lexical.status, 0);
    EXPECT_NE(lexical.err.find("--router-model: the lexical router uses no model"),
              std::string::npos)
        << lexical.err;
    const CliRun missing = run_rdic("serve --router hybrid --router-model /nonexistent/r.gguf");
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("--router-model: /nonexistent/r.gguf"), std::string::npos)
        << missing.err;
    EXPECT_EQ(missing.err.find("Qwen"), std::string::npos) << "no model loaded before the check";
}

// --opening-probe is read before any model loads: a missing file and a bad field are named with
// the flag, the file and the JSON pointer.
TEST_F(CliRouting, ServeOpeningProbeIsCheckedFirst) {
    const CliRun missing = run_rdic("serve --router hybrid --opening-probe /nonexistent/p.json");
    EXPECT_EQ(missing.status, 3) << missing.err;
    EXPECT_NE(missing.err.find("--opening-probe: /nonexistent/p.json: cannot read"),
              std::string::npos)
        << missing.err;
    const fs::path bad = tmp_.write("p.json", R"({"format": "rdic.opening_probe/v0"})");
    const CliRun wrong = run_rdic("serve --router hybrid --opening-probe " + bad.string());
    EXPECT_EQ(wrong.status, 4) << wrong.err;
    EXPECT_NE(wrong.err.find("p.json: /format: must be \"rdic.opening_probe/v1\""),
              std::string::npos)
        << wrong.err;
    EXPECT_EQ(wrong.err.find("Qwen"), std::string::npos) << "no model loaded before the check";
}

// A probe fits one router model and the routers that embed with an instruction: the 1.5B's
// probe on the default 0.5B model, or any probe with the lexical router, is refused.
TEST_F(CliRouting, ClusterRefusesAProbeThatDoesNotFit) {
    const std::string data = std::string(RDIC_DATA_DIR) + "/dev/edu-02.json";
    const CliRun lexical = run_rdic(
        "cluster --data " + data + " --method online --router lexical --opening-probe " + kProbe05);
    EXPECT_EQ(lexical.status, 2) << lexical.err;
    EXPECT_NE(lexical.err.find("needs a router that embeds with an instruction"), std::string::npos)
        << lexical.err;
    const CliRun other =
        run_rdic("cluster --data " + data +
                 " --method online --router hybrid --threads 2 --opening-probe " + kProbe15);
    EXPECT_EQ(other.status, 2) << other.err;
    EXPECT_NE(other.err.find("opening-qwen2.5-coder-1.5b-hybrid.json: /model/"), std::string::npos)
        << other.err;
    const CliRun offline =
        run_rdic("cluster --data " + data + " --method lexical --opening-probe " + kProbe05);
    EXPECT_EQ(offline.status, 2) << offline.err;
    EXPECT_NE(offline.err.find("--opening-probe needs --method online"), std::string::npos)
        << offline.err;
}

// The default model's shipped probe runs in `rdic cluster`: every routed turn after the first
// has its probability, and the parameters name the probe and its threshold.
TEST_F(CliRouting, ClusterReportsTheProbesProbability) {
    const std::string data = std::string(RDIC_DATA_DIR) + "/dev/edu-02.json";
    const CliRun r = run_rdic("cluster --data " + data +
                              " --method online --router hybrid --threads 2 --json "
                              "--opening-probe " +
                              kProbe05);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto& ex = j.at("examples").at(0);
    EXPECT_EQ(j.at("parameters").at("opening_probe"), kProbe05);
    int asked = 0, first = 0;
    for (const auto& t : ex.at("assignment")) {
        if (!t.contains("route")) continue;
        const double p = t.at("route").at("probe_p").get<double>();
        if (p == -1) {
            ++first;
        } else {
            EXPECT_GE(p, 0.0);
            EXPECT_LE(p, 1.0);
            ++asked;
        }
    }
    EXPECT_EQ(first, 1) << "only the first message has no topic to compare with";
    EXPECT_GE(asked, 10);
}

}  // namespace
