// The GGUF probe must turn every malformed model file into one precise error, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rdic/error.h"
#include "rdic/gguf_probe.h"
#include "support/gguf_writer.h"

namespace {

namespace fs = std::filesystem;

using rdic::test::GgufWriter;

// A valid file: 3 metadata keys, one f32 tensor of 4x8 elements (128 bytes).
std::vector<char> valid_gguf() {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(1).u64(3);
    w.kv_string("general.architecture", "llama");
    w.kv_string("general.name", "tiny");
    w.str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2).str("a").str("bc");
    w.str("blk.0.w").u32(2).u64(4).u64(8).u32(0).u64(0);
    w.pad_to(32);
    std::vector<char> data(128, 1);
    w.raw(data.data(), data.size());
    return w.bytes;
}

class GgufProbeTest : public ::testing::Test {
protected:
    fs::path write(const std::vector<char>& bytes) {
        const fs::path p = dir_ / ("m" + std::to_string(n_++) + ".gguf");
        std::ofstream(p, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return p;
    }
    void expect_error(const std::vector<char>& bytes, rdic::ErrorCode code,
                      const std::string& fragment) {
        const fs::path p = write(bytes);
        try {
            rdic::probe_gguf(p);
            FAIL() << "expected an error containing '" << fragment << "'";
        } catch (const rdic::Error& e) {
            EXPECT_EQ(e.code(), code) << e.what();
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos)
                << "the message must name the file: " << e.what();
        }
    }
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("rdic_gguf_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
    int n_ = 0;
};

TEST_F(GgufProbeTest, ReadsValidFile) {
    const auto s = rdic::probe_gguf(write(valid_gguf()));
    EXPECT_EQ(s.version, 3u);
    EXPECT_EQ(s.n_tensors, 1u);
    EXPECT_EQ(s.n_kv, 3u);
    EXPECT_EQ(s.architecture, "llama");
    EXPECT_EQ(s.name, "tiny");
    EXPECT_FALSE(s.has_chat_template);
    EXPECT_EQ(s.scalars.at("tokenizer.ggml.tokens"), "[array of 2]");
    EXPECT_EQ(s.data_end, s.file_bytes);
}

TEST_F(GgufProbeTest, MissingFile) {
    EXPECT_THROW(
        {
            try {
                rdic::probe_gguf(dir_ / "nope.gguf");
            } catch (const rdic::Error& e) {
                EXPECT_EQ(e.code(), rdic::ErrorCode::file_not_found);
                EXPECT_NE(std::string(e.what()).find("nope.gguf"), std::string::npos);
                throw;
            }
        },
        rdic::Error);
}

TEST_F(GgufProbeTest, Directory) {
    try {
        rdic::probe_gguf(dir_);
        FAIL();
    } catch (const rdic::Error& e) {
        EXPECT_EQ(e.code(), rdic::ErrorCode::file_not_found);
        EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos);
    }
}

TEST_F(GgufProbeTest, EmptyFile) {
    expect_error({}, rdic::ErrorCode::corrupt_file, "empty");
}

TEST_F(GgufProbeTest, WrongMagic) {
    auto b = valid_gguf();
    std::memcpy(b.data(), "GGML", 4);
    expect_error(b, rdic::ErrorCode::corrupt_file, "magic");
}

TEST_F(GgufProbeTest, UnsupportedVersion) {
    auto b = valid_gguf();
    const uint32_t v = 7;
    std::memcpy(b.data() + 4, &v, 4);
    expect_error(b, rdic::ErrorCode::corrupt_file, "version 7");
}

TEST_F(GgufProbeTest, AbsurdCounts) {
    auto b = valid_gguf();
    const uint64_t n = uint64_t{1} << 60;
    std::memcpy(b.data() + 16, &n, 8);
    expect_error(b, rdic::ErrorCode::corrupt_file, "exceeds");
}

TEST_F(GgufProbeTest, TruncatedEverywhere) {
    // Cutting the file at any byte must give a clean corrupt_file error, never a crash.
    const auto full = valid_gguf();
    for (size_t n = 1; n < full.size(); ++n) {
        std::vector<char> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        const fs::path p = write(cut);
        try {
            rdic::probe_gguf(p);
            ADD_FAILURE() << "no error for a file cut at " << n << " bytes";
        } catch (const rdic::Error& e) {
            EXPECT_EQ(e.code(), rdic::ErrorCode::corrupt_file) << n << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos)
                << n << ": " << e.what();
        }
        fs::remove(p);
    }
}

TEST_F(GgufProbeTest, InvalidValueType) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(1);
    w.str("general.architecture").u32(99);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "invalid value type 99");
}

TEST_F(GgufProbeTest, MissingArchitecture) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(1);
    w.kv_u32("general.alignment", 32);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "general.architecture");
}

TEST_F(GgufProbeTest, BadAlignment) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(2);
    w.kv_string("general.architecture", "llama");
    w.kv_u32("general.alignment", 24);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "power of two");
}

// Found by fuzz_gguf_probe (2026-12-05): an alignment that is an array, a string or a signed
// or float number reached std::stoull and ended the process with an uncaught exception.
TEST_F(GgufProbeTest, AlignmentOfAnotherTypeIsRefusedNotParsed) {
    {
        GgufWriter w;
        w.raw("GGUF", 4).u32(3).u64(0).u64(2);
        w.kv_string("general.architecture", "llama");
        w.str("general.alignment").u32(9).u32(4).u64(0);  // an empty array of u32
        expect_error(w.bytes, rdic::ErrorCode::corrupt_file,
                     "general.alignment must be an unsigned integer, is [array of 0]");
    }
    {
        GgufWriter w;
        w.raw("GGUF", 4).u32(3).u64(0).u64(2);
        w.kv_string("general.architecture", "llama");
        w.kv_string("general.alignment", "thirty-two");
        expect_error(w.bytes, rdic::ErrorCode::corrupt_file,
                     "general.alignment must be an unsigned integer, is thirty-two");
    }
    {
        GgufWriter w;
        w.raw("GGUF", 4).u32(3).u64(0).u64(2);
        w.kv_string("general.architecture", "llama");
        w.str("general.alignment").u32(5).u32(static_cast<uint32_t>(-32));  // i32 -32
        expect_error(w.bytes, rdic::ErrorCode::corrupt_file,
                     "general.alignment must be an unsigned integer, is -32");
    }
}

TEST_F(GgufProbeTest, StringLongerThanFile) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(1);
    w.str("general.architecture").u32(8).u64(uint64_t{1} << 40);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "more than the file can hold");
}

TEST_F(GgufProbeTest, TensorRankZero) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(1).u64(1);
    w.kv_string("general.architecture", "llama");
    w.str("t").u32(0).u32(0).u64(0);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "rank 0");
}

TEST_F(GgufProbeTest, MisalignedTensorOffset) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(1).u64(1);
    w.kv_string("general.architecture", "llama");
    w.str("t").u32(1).u64(4).u32(0).u64(3);
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "not aligned");
}

TEST_F(GgufProbeTest, QuantizedTensorNotMultipleOfBlock) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(1).u64(1);
    w.kv_string("general.architecture", "llama");
    w.str("t").u32(1).u64(100).u32(12).u64(0);  // Q4_K needs multiples of 256
    expect_error(w.bytes, rdic::ErrorCode::corrupt_file, "not a multiple");
}

TEST_F(GgufProbeTest, ChatTemplateDetected) {
    GgufWriter w;
    w.raw("GGUF", 4).u32(3).u64(0).u64(2);
    w.kv_string("general.architecture", "llama");
    w.kv_string("tokenizer.chat_template", "{{ messages }}");
    const auto s = rdic::probe_gguf(write(w.bytes));
    EXPECT_TRUE(s.has_chat_template);
}

TEST_F(GgufProbeTest, RandomBytesNeverCrash) {
    // Deterministic pseudo-random corruption of a valid file: every outcome is either success or
    // a corrupt_file error.
    const auto base = valid_gguf();
    uint32_t x = 12345;
    for (int trial = 0; trial < 500; ++trial) {
        auto b = base;
        for (int k = 0; k < 4; ++k) {
            x = x * 1664525u + 1013904223u;
            b[x % b.size()] = static_cast<char>(x >> 24);
        }
        const fs::path p = write(b);
        try {
            rdic::probe_gguf(p);
        } catch (const rdic::Error& e) {
            EXPECT_EQ(e.code(), rdic::ErrorCode::corrupt_file) << e.what();
        }
        fs::remove(p);
    }
}

}  // namespace
