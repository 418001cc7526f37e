#include "rdic/engine/sequence_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "rdic/crc32c.h"
#include "rdic/error.h"
#include "rdic/sha256.h"

namespace rdic {

namespace {

constexpr char kMagic[8] = {'R', 'D', 'I', 'C', 'S', 'E', 'Q', '1'};
constexpr size_t kShaHex = 64;

template <typename T>
void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

bool is_sha_hex(std::string_view s) {
    if (s.size() != kShaHex) return false;
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

[[noreturn]] void os_error(const std::filesystem::path& path, const std::string& what) {
    throw Error(ErrorCode::invalid_argument,
                path.string() + ": " + what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) os_error(path, "cannot write");
        off += static_cast<size_t>(n);
    }
}

// Reads fixed-size fields from the file's bytes, failing with the field's name.
class Reader {
public:
    Reader(std::string_view bytes, const std::filesystem::path& path)
        : bytes_(bytes), path_(path) {}
    template <typename T>
    T get(const char* field) {
        T v;
        std::memcpy(&v, take(sizeof v, field), sizeof v);
        return v;
    }
    const char* take(size_t n, const char* field) {
        if (bytes_.size() - pos_ < n) {
            throw Error(ErrorCode::corrupt_file, path_.string() + ": truncated at " + field +
                                                     " (byte " + std::to_string(pos_) + ")");
        }
        const char* p = bytes_.data() + pos_;
        pos_ += n;
        return p;
    }
    size_t pos() const { return pos_; }

private:
    std::string_view bytes_;
    const std::filesystem::path& path_;
    size_t pos_ = 0;
};

}  // namespace

void write_sequence_file(const std::filesystem::path& path, const SequenceSnapshot& snapshot,
                         std::string_view model_sha256) {
    if (!is_sha_hex(model_sha256)) {
        throw Error(ErrorCode::invalid_argument,
                    "write_sequence_file: model sha256 must be 64 lowercase hex characters");
    }
    // Everything but the KV bytes, which are written from the snapshot as they are.
    std::string head(kMagic, sizeof kMagic);
    put<uint32_t>(head, kSequenceFileVersion);
    head.append(model_sha256);
    put<uint32_t>(head, static_cast<uint32_t>(snapshot.tokens.size()));
    for (const TokenId t : snapshot.tokens) put<int32_t>(head, t.value);
    put<uint64_t>(head, snapshot.kv.size());
    const std::string_view kv(reinterpret_cast<const char*>(snapshot.kv.data()),
                              snapshot.kv.size());
    std::string tail;
    put<uint32_t>(tail, crc32c(kv, crc32c(head)));

    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) os_error(tmp, "cannot create");
    try {
        write_all(fd, head, tmp);
        write_all(fd, kv, tmp);
        write_all(fd, tail, tmp);
        if (::fsync(fd) != 0) os_error(tmp, "cannot fsync");
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0) os_error(tmp, "cannot close");
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        errno = err;
        os_error(path, "cannot rename the temporary file into place");
    }
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);  // the rename itself is durable once the folder is synced
        ::close(dfd);
    }
}

SequenceSnapshot read_sequence_file(const std::filesystem::path& path,
                                    std::string_view model_sha256) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::file_not_found, path.string() + ": cannot open");
    // Read once into one buffer; the KV bytes are then copied out once.
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorCode::file_not_found, path.string() + ": cannot stat");
    std::string bytes(size, '\0');
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
        throw Error(ErrorCode::corrupt_file, path.string() + ": cannot read");
    }
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        throw Error(ErrorCode::corrupt_file, path.string() + ": not an rdic sequence file");
    }
    uint32_t version = 0;
    if (bytes.size() >= sizeof kMagic + sizeof version) {
        std::memcpy(&version, bytes.data() + sizeof kMagic, sizeof version);
    }
    // Version 1 ends with the sha256 (hex) of what precedes it, version 2 with its CRC-32C.
    const size_t trailer = version == 1 ? kShaHex : sizeof(uint32_t);
    if (bytes.size() < sizeof kMagic + sizeof version + trailer) {
        throw Error(ErrorCode::corrupt_file, path.string() + ": truncated");
    }
    const size_t body = bytes.size() - trailer;
    const std::string_view content = std::string_view(bytes).substr(0, body);
    bool intact = false;
    if (version == 1) {
        intact = sha256_hex(content) == std::string_view(bytes).substr(body);
    } else {
        uint32_t stored = 0;
        std::memcpy(&stored, bytes.data() + body, sizeof stored);
        intact = crc32c(content) == stored;
    }
    if (!intact) {
        throw Error(ErrorCode::corrupt_file,
                    path.string() + ": checksum mismatch (the file was altered or cut short)");
    }
    Reader r(content, path);
    r.take(sizeof kMagic, "magic");
    r.get<uint32_t>("version");
    if (version != 1 && version != kSequenceFileVersion) {
        throw Error(ErrorCode::corrupt_file, path.string() + ": format version " +
                                                 std::to_string(version) + ", this build reads " +
                                                 "1 and " + std::to_string(kSequenceFileVersion));
    }
    const std::string model(r.take(kShaHex, "model sha256"), kShaHex);
    if (model != model_sha256) {
        throw Error(ErrorCode::unsupported_model, path.string() + ": written for model sha256 " +
                                                      model + ", not the loaded model's " +
                                                      std::string(model_sha256));
    }
    SequenceSnapshot snap;
    const auto n_tokens = r.get<uint32_t>("n_tokens");
    if (n_tokens > (content.size() - r.pos()) / sizeof(int32_t)) {
        throw Error(ErrorCode::corrupt_file,
                    path.string() + ": n_tokens " + std::to_string(n_tokens) + " exceeds the file");
    }
    snap.tokens.reserve(n_tokens);
    for (uint32_t i = 0; i < n_tokens; ++i)
        snap.tokens.push_back(TokenId(r.get<int32_t>("tokens")));
    const auto n_kv = r.get<uint64_t>("n_kv");
    if (n_kv != content.size() - r.pos()) {
        throw Error(ErrorCode::corrupt_file,
                    path.string() + ": n_kv " + std::to_string(n_kv) + " does not match the " +
                        std::to_string(content.size() - r.pos()) + " bytes that follow");
    }
    const char* kv = r.take(n_kv, "kv");
    snap.kv.assign(reinterpret_cast<const uint8_t*>(kv),
                   reinterpret_cast<const uint8_t*>(kv) + n_kv);
    return snap;
}

}  // namespace rdic
