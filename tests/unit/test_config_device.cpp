// config.json's "device" (where the model ran): read when present, "" (unknown) when absent (a
// config written before the field existed), refused with file and JSON pointer when mistyped;
// a known difference in device keeps two runs from being averaged as seeds or resumed. No model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/records/result_record.h"
#include "rdic/records/run_config.h"
#include "rdic/reporting/report.h"
#include "support/record_fixtures.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::sample_config;
using test::sample_result;
using test::TempDir;

const std::string kCpu = "CPU (a test processor)";
const std::string kGpu = "CUDA0 (NVIDIA H100 80GB HBM3)";

ConfigRecord config_on(const std::string& device) {
    ConfigRecord c = sample_config();
    c.config.device = device;
    return c;
}

// A results directory with config.json and one successful record.
fs::path run_dir(const TempDir& t, const std::string& name, const ConfigRecord& config) {
    ResultRecord r = sample_result("e", "semantic");
    r.config = config.config;
    return test::run_dir(t, name, {result_to_line(r)}, config);
}

TEST(ConfigDevice, IsReadWhenPresentUnknownWhenAbsentAndRefusedWhenMistyped) {
    TempDir t;
    const ConfigRecord gpu = config_on(kGpu);
    EXPECT_EQ(read_config(t.write("new.json", config_to_text(gpu))).config.device, kGpu);
    // Each results record carries the same config, through the same reader.
    EXPECT_EQ(parse_result_line(result_to_line([&] {
                                    ResultRecord r = sample_result("e", "semantic");
                                    r.config = gpu.config;
                                    return r;
                                }()),
                                "r:1")
                  .config.device,
              kGpu);

    json old = json::parse(config_to_text(gpu));
    ASSERT_TRUE(old["config"].contains("device"));
    old["config"].erase("device");
    EXPECT_EQ(read_config(t.write("old.json", old.dump())).config.device, "");

    json bad = json::parse(config_to_text(gpu));
    bad["config"]["device"] = 0;
    const std::string w = test::corrupt([&] { read_config(t.write("bad.json", bad.dump())); });
    EXPECT_NE(w.find("bad.json: /config/device: must be a string, is"), std::string::npos) << w;
}

TEST(ConfigDevice, AKnownDifferenceIsADifferenceAnUnknownOneIsNot) {
    auto diff = [](const std::string& a, const std::string& b) {
        const ConfigRecord x = config_on(a), y = config_on(b);
        return setting_differences(x.config, x.model, y.config, y.model, false, false);
    };
    EXPECT_EQ(diff(kCpu, kGpu),
              std::vector<std::string>{"device: \"" + kCpu + "\" vs \"" + kGpu + "\""});
    EXPECT_EQ(diff("remote", kGpu).size(), 1u);
    EXPECT_TRUE(diff(kGpu, kGpu).empty());
    EXPECT_TRUE(diff("", kGpu).empty());
    EXPECT_TRUE(diff(kCpu, "").empty());
    EXPECT_TRUE(diff("", "").empty());
    // --resume of a CPU run on a GPU is refused like any other difference.
    EXPECT_EQ(resume_differences(config_on(kCpu), config_on(kGpu)).size(), 1u);
    EXPECT_TRUE(resume_differences(config_on(""), config_on(kGpu)).empty());
}

TEST(ConfigDevice, AReportRefusesACpuAndAGpuRunAsSeedsUnlessAllowed) {
    TempDir t;
    const fs::path cpu = run_dir(t, "cpu", config_on(kCpu));
    const fs::path gpu = run_dir(t, "gpu", config_on(kGpu));
    const fs::path old = run_dir(t, "old", config_on(""));
    EXPECT_EQ(build_report({old, cpu}, {}).runs.size(), 2u);  // an old config stays reportable
    // An unknown device first must not let the CPU and the GPU run pass as seeds.
    for (const std::vector<fs::path>& dirs :
         {std::vector<fs::path>{cpu, gpu}, std::vector<fs::path>{old, cpu, gpu}}) {
        const std::string w =
            test::error_of([&] { build_report(dirs, {}); }, ErrorCode::invalid_argument);
        EXPECT_NE(w.find("cpu and gpu differ in more than the seed (device: \"" + kCpu +
                         "\" vs \"" + kGpu + "\")"),
                  std::string::npos)
            << w;
    }
    ReportOptions mixed;
    mixed.allow_mixed = true;
    const Report r = build_report({cpu, gpu}, mixed);
    ASSERT_FALSE(r.notes.empty());
    EXPECT_NE(r.notes[0].find("Mixed runs: cpu and gpu differ in more than the seed (device: "),
              std::string::npos)
        << r.notes[0];
}

}  // namespace
}  // namespace rdic
