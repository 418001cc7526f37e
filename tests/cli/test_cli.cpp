// The rdic binary as a user runs it: exit status, one-line errors, output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rdic/model_paths.h"
#include "support/gguf_writer.h"

namespace {

namespace fs = std::filesystem;

struct CliRun {
    int status = -1;
    std::string out;
    std::string err;
};

CliRun rdic(const std::string& args) {
    const fs::path err_file =
        fs::temp_directory_path() / ("rdic_cli_err_" + std::to_string(::getpid()));
    const std::string cmd = std::string(RDIC_BINARY) + " " + args + " 2>" + err_file.string();
    CliRun r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int raw = ::pclose(pipe);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    std::ifstream in(err_file);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    fs::remove(err_file);
    return r;
}

size_t count_lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("rdic_cli_" +
                std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Cli, Version) {
    const CliRun r = rdic("--version");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("rdic 0."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("llama.cpp"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("device CPU"), std::string::npos) << r.out;
}

TEST_F(Cli, InfoOnDefaultModel) {
    const CliRun r = rdic("info");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("gemma3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sliding window 512"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("chat template  absent"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << "llama.cpp's log must not leak to stderr:\n" << r.err;
}

TEST_F(Cli, InfoJson) {
    const CliRun r = rdic("info --json --model " +
                          (rdic::model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf").string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"architecture\": \"llama\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"has_chat_template\": true"), std::string::npos) << r.out;
}

TEST_F(Cli, MissingModelIsOneLineExit3) {
    const CliRun r = rdic("info --model " + (dir_ / "missing.gguf").string());
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
}

TEST_F(Cli, TruncatedModelIsOneLineExit4) {
    const fs::path cut = dir_ / "cut.gguf";
    const fs::path src = rdic::model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf";
    rdic::test::copy_prefix(src, cut, fs::file_size(src) - 1000);
    const CliRun r = rdic("generate --prompt hi --model " + cut.string());
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(Cli, UnsupportedArchitectureIsOneLineExit5) {
    const fs::path p = dir_ / "alien.gguf";
    rdic::test::unknown_architecture_gguf().save(p);
    const CliRun r = rdic("info --model " + p.string());
    EXPECT_EQ(r.status, 5);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("rdic-unknown-arch"), std::string::npos) << r.err;
}

TEST_F(Cli, BadArgumentsExit2) {
    EXPECT_EQ(rdic("generate").status, 2);  // --prompt is required
    EXPECT_EQ(rdic("generate --prompt x --top-p 0").status, 2);
    EXPECT_EQ(rdic("no-such-command").status, 2);
}

TEST_F(Cli, GenerateIsReproducibleWithSeed) {
    const std::string args =
        "generate --raw --prompt 'The three primary colours are' --max-tokens 12 "
        "--temperature 0.8 --seed 7";
    const CliRun a = rdic(args);
    const CliRun b = rdic(args);
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_FALSE(a.out.empty());
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.err.find("tok/s"), std::string::npos) << a.err;
}

}  // namespace
