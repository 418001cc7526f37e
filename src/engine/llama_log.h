// Internal: llama.cpp process setup and log capture. Only src/engine includes this.
#pragma once

#include <string>
#include <vector>

namespace rdic::detail {

// Initialises the llama.cpp backend once per process and installs rdic's log callback.
// llama.cpp's messages go to stderr only when RDIC_LLAMA_LOG is set (error|warn|info|debug).
void ensure_backend();

// Receives each complete log line (called by the log callback).
void on_log_line(int level, const std::string& line);

// While alive, records every complete llama.cpp log line emitted on this thread.
class LogCapture {
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    const std::vector<std::string>& lines() const { return lines_; }
    // The first error-level line (llama.cpp logs the cause first, then "failed to ..." lines),
    // or the first warning if there is no error; trimmed; "" when none.
    std::string first_error() const;

private:
    friend void on_log_line(int level, const std::string& line);
    std::vector<std::string> lines_;
    std::string first_error_;
    std::string first_warn_;
    LogCapture* outer_ = nullptr;
};

}  // namespace rdic::detail
