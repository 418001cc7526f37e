// Test helper: writes small GGUF files byte by byte, to build valid and broken model files.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rdic::test {

class GgufWriter {
public:
    GgufWriter& u32(uint32_t v) { return raw(&v, 4); }
    GgufWriter& u64(uint64_t v) { return raw(&v, 8); }
    GgufWriter& str(const std::string& s) {
        u64(s.size());
        return raw(s.data(), s.size());
    }
    GgufWriter& raw(const void* p, size_t n) {
        const auto* b = static_cast<const char*>(p);
        bytes.insert(bytes.end(), b, b + n);
        return *this;
    }
    GgufWriter& kv_string(const std::string& key, const std::string& v) {
        return str(key).u32(8).str(v);
    }
    GgufWriter& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
    void pad_to(size_t alignment) {
        while (bytes.size() % alignment != 0) bytes.push_back(0);
    }
    void save(const std::filesystem::path& p) const {
        std::ofstream(p, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    std::vector<char> bytes;
};

// A structurally valid GGUF naming an architecture no loader knows.
inline GgufWriter unknown_architecture_gguf(const std::string& arch = "rdic-unknown-arch") {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(2);
    w.kv_string("general.architecture", arch);
    w.kv_string("general.name", "not a real model");
    return w;
}

// The first `n` bytes of `src` written to `dst`.
inline void copy_prefix(const std::filesystem::path& src, const std::filesystem::path& dst,
                        uint64_t n) {
    std::ifstream in(src, std::ios::binary);
    std::vector<char> buf(n);
    in.read(buf.data(), static_cast<std::streamsize>(n));
    std::ofstream(dst, std::ios::binary).write(buf.data(), in.gcount());
}

}  // namespace rdic::test
