#include "rdic/records/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "rdic/error.h"

namespace rdic {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_os(ErrorCode code, const fs::path& file, const std::string& what, int err) {
    throw Error(code, os_error_message(file, what, err));
}

// Writes all of `data` to fd, retrying short writes and EINTR.
void write_all(int fd, std::string_view data, const fs::path& file) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_os(ErrorCode::backend_failure, file, "write failed", errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// Length of the largest newline-terminated prefix of FILE.
off_t whole_lines_size(int fd, const fs::path& file) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_os(ErrorCode::file_not_found, file, "cannot stat", errno);
    off_t end = st.st_size;
    char buf[4096];
    while (end > 0) {
        const off_t start = end > static_cast<off_t>(sizeof buf) ? end - sizeof buf : 0;
        const ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - start), start);
        if (n < 0) throw_os(ErrorCode::file_not_found, file, "cannot read", errno);
        for (ssize_t i = n - 1; i >= 0; --i) {
            if (buf[i] == '\n') return start + i + 1;
        }
        end = start;
    }
    return 0;
}

}  // namespace

std::string os_error_message(const fs::path& file, const std::string& what, int err) {
    return printable_path(file) + ": " + what + ": " + std::strerror(err);
}

JsonlContent read_jsonl(const fs::path& file) {
    std::error_code ec;
    if (fs::is_directory(file, ec)) {
        throw Error(ErrorCode::file_not_found,
                    printable_path(file) + ": is a directory, not a file");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw_os(ErrorCode::file_not_found, file, "cannot open", errno);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string all = ss.str();
    JsonlContent out;
    size_t pos = 0;
    int64_t number = 0;
    while (pos < all.size()) {
        const size_t nl = all.find('\n', pos);
        ++number;
        if (nl == std::string::npos) {
            out.torn_tail = true;
            break;
        }
        if (nl > pos) out.lines.push_back({number, all.substr(pos, nl - pos)});
        pos = nl + 1;
    }
    return out;
}

JsonlAppender::JsonlAppender(const fs::path& file) : file_(file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_os(ErrorCode::file_not_found, file, "cannot open for appending", errno);
    struct stat st {};
    const off_t keep = whole_lines_size(fd_, file);
    if (::fstat(fd_, &st) != 0 || (keep != st.st_size && ::ftruncate(fd_, keep) != 0) ||
        ::lseek(fd_, 0, SEEK_END) < 0) {
        const int err = errno;
        ::close(fd_);
        throw_os(ErrorCode::backend_failure, file, "cannot cut a torn last line", err);
    }
}

JsonlAppender::~JsonlAppender() {
    if (fd_ >= 0) ::close(fd_);
}

void JsonlAppender::append(std::string_view line) {
    std::string buf;
    buf.reserve(line.size() + 1);
    buf.append(line);
    buf.push_back('\n');
    write_all(fd_, buf, file_);
    if (::fsync(fd_) != 0) throw_os(ErrorCode::backend_failure, file_, "fsync failed", errno);
}

void write_file_atomic(const fs::path& file, std::string_view text) {
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::string name = file.filename().string();
    name.insert(0, 1, '.');
    name.append(".tmp.XXXXXX");
    std::string tmpl = (dir / name).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw_os(ErrorCode::file_not_found, file, "cannot write", errno);
    const fs::path tmp = tmpl;
    try {
        write_all(fd, text, file);
        if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
            throw_os(ErrorCode::backend_failure, file, "write failed", errno);
        }
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw_os(ErrorCode::backend_failure, file, "write failed", err);
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw_os(ErrorCode::backend_failure, file, "cannot replace", err);
    }
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);  // the rename itself; best effort (not every file system supports it)
        ::close(dfd);
    }
}

ResultsDirLock::ResultsDirLock(const fs::path& dir, const std::string& what) {
    const fs::path file = dir / ".rdic.lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_os(ErrorCode::file_not_found, file, "cannot create the lock file", errno);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char holder[256] = {};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK) throw_os(ErrorCode::backend_failure, file, "cannot lock", err);
        std::string h = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "";
        while (!h.empty() && (h.back() == '\n' || h.back() == ' ')) h.pop_back();
        throw Error(ErrorCode::invalid_argument,
                    printable_path(dir) + ": in use by " + (h.empty() ? "another process" : h) +
                        "; one writer per results directory: wait for it to finish, or use "
                        "another --out");
    }
    const std::string me = "PID " + std::to_string(::getpid()) + " (rdic " + what + ")\n";
    // Best effort: the lock holds without this note, which only names the holder to a refused
    // second writer.
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, me.data(), me.size(), 0);
}

ResultsDirLock::~ResultsDirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace rdic
