// Runs the rdic binary (RDIC_BINARY) as a user would and captures its exit status and output.
//
//   rdic::test::CliRun r = rdic::test::run_rdic("validate data/");
//   EXPECT_EQ(r.status, 0) << r.err;
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace rdic::test {

struct CliRun {
    int status = -1;  // exit status; -1 when killed by a signal
    std::string out;  // standard output
    std::string err;  // standard error
};

// `env` ("NAME=value ...", may be empty) is set for the command only; `wrapper` (e.g. "setpriv
// --reuid=65534 ") runs the binary through another command.
inline CliRun run_rdic_env(const std::string& env, const std::string& args,
                           const std::string& wrapper = "") {
    const std::filesystem::path err_file =
        std::filesystem::temp_directory_path() / ("rdic_cli_err_" + std::to_string(::getpid()));
    const std::string cmd = (env.empty() ? "" : "env " + env + " ") + wrapper +
                            std::string(RDIC_BINARY) + " " + args + " 2>" + err_file.string();
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
    std::filesystem::remove(err_file);
    return r;
}

inline CliRun run_rdic(const std::string& args) {
    return run_rdic_env("", args);
}

}  // namespace rdic::test
