// The files of a results directory as bytes on disk: JSON-lines appends that survive a kill,
// whole files replaced atomically, and the directory's writer lock.
//
//   rdic::ResultsDirLock lock(dir, "run");              // throws when another process holds it
//   rdic::JsonlAppender out(dir / "results.jsonl");     // cuts a torn last line, then appends
//   out.append(line);                                   // written and flushed, or throws
//   rdic::write_file_atomic(dir / "summary.txt", text); // temp file, fsync, rename
//
// Every failure throws rdic::Error naming the file and the operating system's reason
// (strerror: "No space left on device", "Permission denied"): file_not_found when a file cannot
// be opened or created, backend_failure when a write, fsync or rename fails.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/printable.h"

namespace rdic {

// "FILE: WHAT: REASON" for errno `err` (bytes-safe file name).
std::string os_error_message(const std::filesystem::path& file, const std::string& what, int err);

// One complete line of a JSON-lines file and its 1-based number.
struct JsonlLine {
    int64_t number = 0;
    std::string text;
};

struct JsonlContent {
    std::vector<JsonlLine> lines;  // complete lines ('\n'-terminated), empty lines left out
    bool torn_tail = false;        // a last line without '\n': a writer killed mid-line (ignored)
};

// Reads FILE. Throws file_not_found when it is missing, a directory or unreadable.
JsonlContent read_jsonl(const std::filesystem::path& file);

// Appends lines to a JSON-lines file (created if missing). Opening cuts a torn last line (a
// writer killed mid-line; it was never acknowledged), so every line in the file is whole.
// Each append is one write(2) of the line and its newline, then fsync.
class JsonlAppender {
public:
    explicit JsonlAppender(const std::filesystem::path& file);
    ~JsonlAppender();
    JsonlAppender(const JsonlAppender&) = delete;
    JsonlAppender& operator=(const JsonlAppender&) = delete;
    void append(std::string_view line);  // `line` without its newline

private:
    std::filesystem::path file_;
    int fd_ = -1;
};

// Replaces FILE with `text`: written to a temporary file in the same directory, fsynced, renamed
// over FILE. FILE is either the old or the new content, never partial.
void write_file_atomic(const std::filesystem::path& file, std::string_view text);

// Advisory lock (flock) on DIR/.rdic.lock, held for the object's lifetime by `rdic run` and
// `rdic eval`. A second writer is refused: Error(invalid_argument) naming the directory, the
// holder's PID and what it is doing. The lock is released when the holder exits, however it ends.
class ResultsDirLock {
public:
    ResultsDirLock(const std::filesystem::path& dir, const std::string& what);
    ~ResultsDirLock();
    ResultsDirLock(const ResultsDirLock&) = delete;
    ResultsDirLock& operator=(const ResultsDirLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace rdic
