// The opening probe file's reader (rdic/records/opening_probe.h) and the router options that
// take a probe (turn_router.h resolved()): no model. The model-side checks (a probe of another
// model or template is refused; the probe opens topics) are in tests/model/test_opening_probe.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rdic/clustering/turn_router.h"
#include "rdic/error.h"
#include "rdic/records/opening_probe.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

using json = nlohmann::json;
using test::TempDir;

json valid_probe() {
    return {{"format", "rdic.opening_probe/v1"},
            {"model",
             {{"name", "M"}, {"description", "qwen2 1.5B Q4_K"}, {"n_params", 7}, {"n_embd", 3}}},
            {"embedding", {{"pooling", "last"}, {"template", "Message: {text}\nSubject:"}}},
            {"threshold", 0.6},
            {"bias", -1.0},
            {"weights", {2.0, 0.0, -1.0}},
            {"training",
             {{"data", "data/train"},
              {"examples", 2},
              {"turns", 20},
              {"openings", 3},
              {"lambda", 0.01}}}};
}

// The error message of reading `j` written to a file, or "" when it reads.
std::string read_error(const json& j, ErrorCode* code = nullptr) {
    TempDir dir;
    const auto file = dir.write("probe.json", j.dump());
    try {
        (void)read_opening_probe(file);
    } catch (const Error& e) {
        if (code) *code = e.code();
        return e.what();
    }
    return "";
}

TEST(OpeningProbe, ReadsEveryField) {
    TempDir dir;
    const auto file = dir.write("probe.json", valid_probe().dump());
    const OpeningProbe p = read_opening_probe(file);
    EXPECT_EQ(p.model_name, "M");
    EXPECT_EQ(p.model_description, "qwen2 1.5B Q4_K");
    EXPECT_EQ(p.model_n_params, 7u);
    EXPECT_EQ(p.n_embd, 3);
    EXPECT_EQ(p.pooling, "last");
    EXPECT_EQ(p.embedding_template, "Message: {text}\nSubject:");
    EXPECT_DOUBLE_EQ(p.threshold, 0.6);
    EXPECT_DOUBLE_EQ(p.bias, -1.0);
    EXPECT_EQ(p.weights, (std::vector<double>{2.0, 0.0, -1.0}));
    EXPECT_EQ(p.training_data, "data/train");
    EXPECT_EQ(p.training_openings, 3);
    EXPECT_NE(p.file.find("probe.json"), std::string::npos);
    EXPECT_FALSE(p.has_context);

    json j = valid_probe();
    j["context"] = {{"max_cosine", 3.5}, {"previous_cosine", -2.0}};
    const OpeningProbe c = read_opening_probe(dir.write("context.json", j.dump()));
    EXPECT_TRUE(c.has_context);
    EXPECT_DOUBLE_EQ(c.weight_max_cosine, 3.5);
    EXPECT_DOUBLE_EQ(c.weight_previous_cosine, -2.0);
    j["context"].erase("previous_cosine");
    EXPECT_NE(read_error(j).find("/context/previous_cosine: missing (required)"),
              std::string::npos);
}

// sigmoid(bias + w . v), checked against the formula written out.
TEST(OpeningProbe, ProbabilityIsTheLogisticOfTheLinearScore) {
    OpeningProbe p;
    p.bias = -1;
    p.weights = {2, 0, -1};
    const std::vector<float> v = {0.6f, 0.8f, 0.0f};
    EXPECT_NEAR(opening_probability(p, v), 1 / (1 + std::exp(-(-1 + 2 * 0.6))), 1e-6);
    const std::vector<float> w = {0.0f, 0.0f, 1.0f};
    EXPECT_NEAR(opening_probability(p, w), 1 / (1 + std::exp(2.0)), 1e-12);
    EXPECT_THROW((void)opening_probability(p, std::vector<float>{1.0f}), Error);
    // The two cosines weigh only in a probe with context.
    EXPECT_NEAR(opening_probability(p, w, 0.9, 0.4), 1 / (1 + std::exp(2.0)), 1e-12);
    p.has_context = true;
    p.weight_max_cosine = 3;
    p.weight_previous_cosine = -1;
    EXPECT_NEAR(opening_probability(p, w, 0.9, 0.4),
                1 / (1 + std::exp(-(-1 - 1 + 3 * 0.9 - 1 * 0.4))), 1e-12);
}

// Each bad field gives one error naming the file, the JSON pointer and what is wrong.
TEST(OpeningProbe, BadFilesNameTheFieldAndTheProblem) {
    ErrorCode code{};
    json j = valid_probe();
    j["format"] = "rdic.opening_probe/v9";
    std::string e = read_error(j, &code);
    EXPECT_EQ(code, ErrorCode::corrupt_file);
    EXPECT_NE(e.find("probe.json: /format: must be \"rdic.opening_probe/v1\""), std::string::npos)
        << e;

    j = valid_probe();
    j["weights"] = {1.0, 2.0};
    e = read_error(j);
    EXPECT_NE(e.find("/weights: must hold model.n_embd = 3 numbers, holds 2"), std::string::npos)
        << e;

    j = valid_probe();
    j["weights"][1] = "x";
    e = read_error(j);
    EXPECT_NE(e.find("/weights/1: must be a finite number"), std::string::npos) << e;

    j = valid_probe();
    j["threshold"] = 1.0;
    e = read_error(j);
    EXPECT_NE(e.find("/threshold: must be in (0, 1)"), std::string::npos) << e;

    j = valid_probe();
    j["embedding"]["pooling"] = "mean";
    e = read_error(j);
    EXPECT_NE(e.find("/embedding/pooling: must be one of last"), std::string::npos) << e;

    j = valid_probe();
    j["embedding"]["template"] = "no placeholder";
    e = read_error(j);
    EXPECT_NE(e.find("/embedding/template: must contain {text}"), std::string::npos) << e;

    j = valid_probe();
    j["model"].erase("n_embd");
    e = read_error(j);
    EXPECT_NE(e.find("/model/n_embd: missing (required)"), std::string::npos) << e;

    j = valid_probe();
    j.erase("training");
    e = read_error(j);
    EXPECT_NE(e.find("/training: missing (required)"), std::string::npos) << e;
}

TEST(OpeningProbe, MissingOrNotJsonFilesAreNamed) {
    ErrorCode code{};
    try {
        (void)read_opening_probe("/nonexistent/probe.json");
        FAIL() << "read a missing file";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::file_not_found);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/probe.json"), std::string::npos);
    }
    TempDir dir;
    const auto file = dir.write("probe.json", "{\"format\": ");
    try {
        (void)read_opening_probe(file);
        FAIL() << "read a torn file";
    } catch (const Error& e) {
        code = e.code();
        EXPECT_NE(std::string(e.what()).find("probe.json: /: not valid JSON"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(code, ErrorCode::corrupt_file);
}

// A probe needs a router that embeds with an instruction; its threshold can be overridden
// within (0, 1), and resolved() reports the one in force.
TEST(OpeningProbe, RouterOptionsTakeAProbeOnlyWhereItFits) {
    auto probe = std::make_shared<OpeningProbe>();
    probe->file = "p.json";
    probe->threshold = 0.6;
    for (const char* m : {"lexical", "centroid", "pair", "llm"}) {
        try {
            (void)resolved({.method = m, .opening_probe = probe});
            ADD_FAILURE() << m << " took a probe";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("p.json) needs a router that embeds"),
                      std::string::npos)
                << e.what();
        }
    }
    for (const char* m : {"instruct", "hybrid", "hybrid-llm"}) {
        EXPECT_DOUBLE_EQ(resolved({.method = m, .opening_probe = probe}).opening_probe_threshold,
                         0.6)
            << m;
    }
    EXPECT_DOUBLE_EQ(
        resolved({.method = "hybrid", .opening_probe = probe, .opening_probe_threshold = 0.8})
            .opening_probe_threshold,
        0.8);
    EXPECT_THROW((void)resolved({.method = "hybrid", .opening_probe_threshold = 1.0}), Error);
    EXPECT_THROW((void)resolved({.method = "hybrid", .opening_probe_threshold = -0.1}), Error);
}

}  // namespace
}  // namespace rdic
