// A child process for tests that start real servers (llama-server, a proxy) or run the rdic
// binary in the background: stdout and stderr go to a log file; the destructor kills (SIGKILL)
// and reaps it, and the child gets SIGKILL when the test process dies (Linux PR_SET_PDEATHSIG),
// so a failed or killed test leaves nothing running.
//
//   rdic::test::Child server({"/path/llama-server", "-m", model, "--port", "0"}, dir / "srv.log");
//   ASSERT_TRUE(rdic::test::wait_until(120, [&] { return server.log().find("listening") != npos;
//   }));
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace rdic::test {

// Polls `done` every 50 ms until it is true (returns true) or `timeout_s` passed (false).
inline bool wait_until(double timeout_s, const std::function<bool()>& done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

class Child {
public:
    // `env`: "NAME=value" entries added to the inherited environment.
    Child(const std::vector<std::string>& argv, std::filesystem::path log,
          const std::vector<std::string>& env = {})
        : log_(std::move(log)) {
        pid_ = ::fork();
        if (pid_ == 0) {
            // A test killed before its destructors run must not leave servers behind.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::close(fd);
            }
            for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> args;
            for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { kill(SIGKILL); }

    pid_t pid() const { return pid_; }

    // Sends `sig` and reaps the process (a no-op when it already ended).
    void kill(int sig = SIGKILL) {
        if (!running()) return;
        ::kill(pid_, sig);
        int status = 0;
        if (::waitpid(pid_, &status, 0) == pid_) record(status);
    }

    // True while the process runs; reaps it (and keeps its status) once it ended.
    bool running() {
        if (exited_ || pid_ <= 0) return false;
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == 0) return true;
        if (r == pid_) record(status);
        return false;
    }

    // Exit status once ended; -1 when killed by a signal or still running.
    int exit_status() const { return status_; }

    std::string log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    void record(int status) {
        exited_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::filesystem::path log_;
    pid_t pid_ = -1;
    bool exited_ = false;
    int status_ = -1;
};

}  // namespace rdic::test
