#include "rdic/gguf_probe.h"

#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "rdic/error.h"

namespace rdic {
namespace {

// GGUF value types (GGUF v3 specification).
enum class ValueType : uint32_t {
    u8 = 0,
    i8 = 1,
    u16 = 2,
    i16 = 3,
    u32 = 4,
    i32 = 5,
    f32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    u64 = 10,
    i64 = 11,
    f64 = 12,
};

constexpr uint64_t kMaxKeyBytes = 1 << 16;
constexpr uint64_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;

struct TypeLayout {
    uint32_t block_elems;
    uint32_t block_bytes;
};

// ggml tensor types whose storage size we know; others are checked by offset only.
std::optional<TypeLayout> tensor_layout(uint32_t ggml_type) {
    switch (ggml_type) {
        case 0:
            return TypeLayout{1, 4};  // F32
        case 1:
            return TypeLayout{1, 2};  // F16
        case 2:
            return TypeLayout{32, 18};  // Q4_0
        case 3:
            return TypeLayout{32, 20};  // Q4_1
        case 6:
            return TypeLayout{32, 22};  // Q5_0
        case 7:
            return TypeLayout{32, 24};  // Q5_1
        case 8:
            return TypeLayout{32, 34};  // Q8_0
        case 10:
            return TypeLayout{256, 84};  // Q2_K
        case 11:
            return TypeLayout{256, 110};  // Q3_K
        case 12:
            return TypeLayout{256, 144};  // Q4_K
        case 13:
            return TypeLayout{256, 176};  // Q5_K
        case 14:
            return TypeLayout{256, 210};  // Q6_K
        case 15:
            return TypeLayout{256, 292};  // Q8_K
        case 24:
            return TypeLayout{1, 1};  // I8
        case 25:
            return TypeLayout{1, 2};  // I16
        case 26:
            return TypeLayout{1, 4};  // I32
        case 27:
            return TypeLayout{1, 8};  // I64
        case 28:
            return TypeLayout{1, 8};  // F64
        case 30:
            return TypeLayout{1, 2};  // BF16
        default:
            return std::nullopt;
    }
}

class Reader {
public:
    Reader(const std::filesystem::path& path, uint64_t size) : path_(path), size_(size) {
        in_.open(path, std::ios::binary);
        if (!in_) fail_open();
    }

    uint64_t offset() const { return offset_; }

    template <class T>
    T read_pod(const char* what) {
        T value{};
        read_bytes(&value, sizeof(T), what);
        return value;
    }

    std::string read_string(const char* what, uint64_t max_bytes) {
        const auto n = read_pod<uint64_t>(what);
        if (n > max_bytes) {
            corrupt(std::string(what) + " has length " + std::to_string(n) +
                    ", more than the file can hold");
        }
        if (n > size_ - offset_) truncated(what);
        std::string s(n, '\0');
        read_bytes(s.data(), n, what);
        return s;
    }

    void skip(uint64_t n, const char* what) {
        if (n > size_ - offset_) truncated(what);
        in_.seekg(static_cast<std::streamoff>(n), std::ios::cur);
        offset_ += n;
    }

    [[noreturn]] void corrupt(const std::string& why) const {
        throw Error(ErrorCode::corrupt_file, path_.string() + ": not a valid GGUF file: " + why +
                                                 " (at byte " + std::to_string(offset_) + ")");
    }
    [[noreturn]] void truncated(const char* what) const {
        throw Error(ErrorCode::corrupt_file,
                    path_.string() + ": file is truncated: " + std::to_string(size_) +
                        " bytes end inside " + what + " at byte " + std::to_string(offset_));
    }

private:
    [[noreturn]] void fail_open() const {
        throw Error(ErrorCode::file_not_found, path_.string() + ": cannot open for reading");
    }

    void read_bytes(void* dst, uint64_t n, const char* what) {
        if (n > size_ - offset_) truncated(what);
        in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (!in_) truncated(what);
        offset_ += n;
    }

    std::filesystem::path path_;
    uint64_t size_;
    uint64_t offset_ = 0;
    std::ifstream in_;
};

uint64_t scalar_bytes(ValueType t) {
    switch (t) {
        case ValueType::u8:
        case ValueType::i8:
        case ValueType::boolean:
            return 1;
        case ValueType::u16:
        case ValueType::i16:
            return 2;
        case ValueType::u32:
        case ValueType::i32:
        case ValueType::f32:
            return 4;
        case ValueType::u64:
        case ValueType::i64:
        case ValueType::f64:
            return 8;
        default:
            return 0;
    }
}

std::string read_scalar_text(Reader& r, ValueType t) {
    switch (t) {
        case ValueType::u8:
            return std::to_string(r.read_pod<uint8_t>("a u8 value"));
        case ValueType::i8:
            return std::to_string(r.read_pod<int8_t>("an i8 value"));
        case ValueType::u16:
            return std::to_string(r.read_pod<uint16_t>("a u16 value"));
        case ValueType::i16:
            return std::to_string(r.read_pod<int16_t>("an i16 value"));
        case ValueType::u32:
            return std::to_string(r.read_pod<uint32_t>("a u32 value"));
        case ValueType::i32:
            return std::to_string(r.read_pod<int32_t>("an i32 value"));
        case ValueType::u64:
            return std::to_string(r.read_pod<uint64_t>("a u64 value"));
        case ValueType::i64:
            return std::to_string(r.read_pod<int64_t>("an i64 value"));
        case ValueType::f32: {
            std::ostringstream os;
            os << r.read_pod<float>("an f32 value");
            return os.str();
        }
        case ValueType::f64: {
            std::ostringstream os;
            os << r.read_pod<double>("an f64 value");
            return os.str();
        }
        case ValueType::boolean:
            return r.read_pod<uint8_t>("a bool value") ? "true" : "false";
        default:
            return {};
    }
}

}  // namespace

GgufSummary probe_gguf(const std::filesystem::path& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw Error(ErrorCode::file_not_found, path.string() + ": no such file");
    }
    if (std::filesystem::is_directory(status)) {
        throw Error(ErrorCode::file_not_found, path.string() + ": is a directory, not a GGUF file");
    }
    GgufSummary s;
    s.path = path;
    s.file_bytes = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorCode::file_not_found, path.string() + ": cannot read its size");

    Reader r(path, s.file_bytes);
    if (s.file_bytes == 0) throw Error(ErrorCode::corrupt_file, path.string() + ": file is empty");
    std::array<char, 4> magic{};
    if (s.file_bytes < magic.size()) r.truncated("the magic number");
    for (char& c : magic) c = r.read_pod<char>("the magic number");
    if (std::memcmp(magic.data(), "GGUF", 4) != 0) r.corrupt("the magic number is not 'GGUF'");
    s.version = r.read_pod<uint32_t>("the version");
    if (s.version < 2 || s.version > 3) {
        r.corrupt("version " + std::to_string(s.version) + " is not supported (2 or 3)");
    }
    s.n_tensors = r.read_pod<uint64_t>("the tensor count");
    s.n_kv = r.read_pod<uint64_t>("the metadata count");
    // Counts that no real model has are corruption; smaller ones that the file cannot hold show
    // up as truncation while reading.
    constexpr uint64_t kMaxCount = uint64_t{1} << 32;
    if (s.n_tensors > kMaxCount || s.n_kv > kMaxCount) {
        r.corrupt("tensor count " + std::to_string(s.n_tensors) + " or metadata count " +
                  std::to_string(s.n_kv) + " exceeds any real model's");
    }

    uint64_t alignment = kDefaultAlignment;
    for (uint64_t i = 0; i < s.n_kv; ++i) {
        const std::string key = r.read_string("a metadata key", kMaxKeyBytes);
        const auto type = static_cast<ValueType>(r.read_pod<uint32_t>("a metadata type"));
        if (type == ValueType::string) {
            std::string value = r.read_string("a metadata string", s.file_bytes);
            if (key == "tokenizer.chat_template") s.has_chat_template = !value.empty();
            s.scalars[key] = std::move(value);
        } else if (type == ValueType::array) {
            const auto elem = static_cast<ValueType>(r.read_pod<uint32_t>("an array type"));
            const auto n = r.read_pod<uint64_t>("an array length");
            if (elem == ValueType::string) {
                for (uint64_t j = 0; j < n; ++j) {
                    const auto len = r.read_pod<uint64_t>("a string in an array");
                    r.skip(len, "a string in an array");
                }
            } else if (const uint64_t b = scalar_bytes(elem); b != 0) {
                if (n > s.file_bytes / b) r.corrupt("array '" + key + "' is longer than the file");
                r.skip(n * b, "an array");
            } else {
                r.corrupt("array '" + key + "' has invalid element type " +
                          std::to_string(static_cast<uint32_t>(elem)));
            }
            s.scalars[key] = "[array of " + std::to_string(n) + "]";
        } else if (scalar_bytes(type) != 0) {
            s.scalars[key] = read_scalar_text(r, type);
        } else {
            r.corrupt("key '" + key + "' has invalid value type " +
                      std::to_string(static_cast<uint32_t>(type)));
        }
        if (key == "general.alignment") {
            // Only an unsigned integer is an alignment (an array, a string, a float or a
            // negative number is refused, never parsed).
            const std::string& text = s.scalars[key];
            const bool unsigned_type = type == ValueType::u8 || type == ValueType::u16 ||
                                       type == ValueType::u32 || type == ValueType::u64;
            const auto [end, parse_error] =
                std::from_chars(text.data(), text.data() + text.size(), alignment);
            if (!unsigned_type || parse_error != std::errc() || end != text.data() + text.size()) {
                r.corrupt("general.alignment must be an unsigned integer, is " + text +
                          " (value type " + std::to_string(static_cast<uint32_t>(type)) + ")");
            }
            if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
                r.corrupt("general.alignment " + std::to_string(alignment) +
                          " is not a power of two");
            }
        }
    }
    if (auto it = s.scalars.find("general.architecture"); it != s.scalars.end()) {
        s.architecture = it->second;
    } else {
        r.corrupt("metadata has no general.architecture");
    }
    if (auto it = s.scalars.find("general.name"); it != s.scalars.end()) s.name = it->second;

    uint64_t needed = 0;
    for (uint64_t i = 0; i < s.n_tensors; ++i) {
        const std::string name = r.read_string("a tensor name", kMaxKeyBytes);
        const auto n_dims = r.read_pod<uint32_t>("a tensor rank");
        if (n_dims == 0 || n_dims > kMaxDims) {
            r.corrupt("tensor '" + name + "' has rank " + std::to_string(n_dims));
        }
        uint64_t n_elems = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const auto dim = r.read_pod<uint64_t>("a tensor dimension");
            if (dim == 0 || dim > (uint64_t{1} << 40) || n_elems > (uint64_t{1} << 50) / dim) {
                r.corrupt("tensor '" + name + "' has invalid dimension " + std::to_string(dim));
            }
            n_elems *= dim;
        }
        const auto ggml_type = r.read_pod<uint32_t>("a tensor type");
        const auto offset = r.read_pod<uint64_t>("a tensor offset");
        if (offset % alignment != 0) {
            r.corrupt("tensor '" + name + "' offset " + std::to_string(offset) +
                      " is not aligned to " + std::to_string(alignment));
        }
        uint64_t n_bytes = 0;
        if (const auto layout = tensor_layout(ggml_type)) {
            if (n_elems % layout->block_elems != 0) {
                r.corrupt("tensor '" + name + "' has " + std::to_string(n_elems) +
                          " elements, not a multiple of its type's block");
            }
            n_bytes = n_elems / layout->block_elems * layout->block_bytes;
        } else if (ggml_type > 64) {
            r.corrupt("tensor '" + name + "' has invalid type " + std::to_string(ggml_type));
        }
        needed = std::max(needed, offset + n_bytes);
    }
    s.data_offset = (r.offset() + alignment - 1) / alignment * alignment;
    s.data_end = s.n_tensors == 0 ? r.offset() : s.data_offset + needed;
    if (s.data_end > s.file_bytes) {
        throw Error(ErrorCode::corrupt_file,
                    path.string() + ": file is truncated: its tensors need " +
                        std::to_string(s.data_end) + " bytes but the file has " +
                        std::to_string(s.file_bytes));
    }
    return s;
}

}  // namespace rdic
