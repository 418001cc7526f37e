#include "llama_log.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "llama.h"

namespace rdic::detail {
namespace {

thread_local LogCapture* t_capture = nullptr;
thread_local std::string t_partial;
thread_local int t_level = GGML_LOG_LEVEL_INFO;

int severity(int level);

// Lowest severity echoed to stderr.
int stderr_threshold() {
    static const int threshold = [] {
        const char* v = std::getenv("RDIC_LLAMA_LOG");
        if (v == nullptr) return 99;  // silent: rdic reports errors itself, in one line
        if (std::strcmp(v, "debug") == 0) return severity(GGML_LOG_LEVEL_DEBUG);
        if (std::strcmp(v, "info") == 0) return severity(GGML_LOG_LEVEL_INFO);
        if (std::strcmp(v, "warn") == 0) return severity(GGML_LOG_LEVEL_WARN);
        return severity(GGML_LOG_LEVEL_ERROR);
    }();
    return threshold;
}

int severity(int level) {
    // GGML_LOG_LEVEL_* order: NONE, DEBUG, INFO, WARN, ERROR, CONT. Map to increasing severity.
    switch (level) {
        case GGML_LOG_LEVEL_DEBUG:
            return 1;
        case GGML_LOG_LEVEL_INFO:
            return 2;
        case GGML_LOG_LEVEL_WARN:
            return 3;
        case GGML_LOG_LEVEL_ERROR:
            return 4;
        default:
            return 2;
    }
}

// C callback handed to llama.cpp: must never throw.
void log_callback(ggml_log_level level, const char* text, void* /*user_data*/) noexcept {
    try {
        if (level != GGML_LOG_LEVEL_CONT) t_level = level;
        if (severity(t_level) >= stderr_threshold()) std::fputs(text, stderr);
        t_partial.append(text);
        size_t nl;
        while ((nl = t_partial.find('\n')) != std::string::npos) {
            on_log_line(t_level, t_partial.substr(0, nl));
            t_partial.erase(0, nl + 1);
        }
    } catch (...) {
        // Out of memory while logging: drop the line rather than unwind through C code.
    }
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

}  // namespace

void on_log_line(int level, const std::string& line) {
    LogCapture* c = t_capture;
    if (c == nullptr) return;
    c->lines_.push_back(line);
    if (level == GGML_LOG_LEVEL_ERROR && c->first_error_.empty()) c->first_error_ = trim(line);
    if (level == GGML_LOG_LEVEL_WARN && c->first_warn_.empty()) c->first_warn_ = trim(line);
}

void ensure_backend() {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(log_callback, nullptr);
        llama_backend_init();
    });
}

LogCapture::LogCapture() : outer_(t_capture) {
    t_capture = this;
}
LogCapture::~LogCapture() {
    t_capture = outer_;
}

std::string LogCapture::first_error() const {
    return first_error_.empty() ? first_warn_ : first_error_;
}

}  // namespace rdic::detail
