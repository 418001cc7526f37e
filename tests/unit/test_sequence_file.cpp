// The sequence file (engine/sequence_file.h): round trip, and each kind of damage refused with
// the file named and what is wrong.
#include <gtest/gtest.h>

#include <fstream>

#include "rdic/crc32c.h"
#include "rdic/engine/sequence_file.h"
#include "rdic/error.h"
#include "rdic/sha256.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

const std::string kSha(64, 'a');
const std::string kOtherSha(64, 'b');

SequenceSnapshot sample() {
    SequenceSnapshot s;
    for (int i = 0; i < 10; ++i) s.tokens.push_back(TokenId(1000 + i));
    for (int i = 0; i < 300; ++i) s.kv.push_back(static_cast<uint8_t>(i * 7));
    return s;
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// The error's code and message when reading `p`; fails the test if it reads.
std::pair<ErrorCode, std::string> failure(const std::filesystem::path& p,
                                          const std::string& sha = kSha) {
    try {
        read_sequence_file(p, sha);
    } catch (const Error& e) {
        return {e.code(), e.what()};
    }
    ADD_FAILURE() << "read " << p << " without error";
    return {ErrorCode::invalid_argument, ""};
}

TEST(SequenceFile, RoundTripKeepsTokensAndBytes) {
    test::TempDir dir;
    const auto p = dir.path() / "a.seq";
    write_sequence_file(p, sample(), kSha);
    const SequenceSnapshot back = read_sequence_file(p, kSha);
    EXPECT_EQ(back.tokens, sample().tokens);
    EXPECT_EQ(back.kv, sample().kv);
    EXPECT_FALSE(std::filesystem::exists(p.string() + ".tmp"));  // renamed into place
    // 8 magic + 4 version + 64 model + 4 n + 40 tokens + 8 n_kv + 300 kv + 4 CRC-32C
    EXPECT_EQ(std::filesystem::file_size(p), 432u);
}

TEST(SequenceFile, AnotherModelIsRefusedByName) {
    test::TempDir dir;
    const auto p = dir.path() / "a.seq";
    write_sequence_file(p, sample(), kSha);
    const auto [code, msg] = failure(p, kOtherSha);
    EXPECT_EQ(code, ErrorCode::unsupported_model);
    EXPECT_NE(msg.find(p.string()), std::string::npos);
    EXPECT_NE(msg.find(kSha), std::string::npos) << msg;
}

TEST(SequenceFile, DamageIsRefusedWithTheFileAndTheReason) {
    test::TempDir dir;
    const auto p = dir.path() / "a.seq";
    write_sequence_file(p, sample(), kSha);
    const std::string good = read_all(p);

    std::string flipped = good;
    flipped[200] = static_cast<char>(flipped[200] ^ 1);  // a KV byte
    write_all(p, flipped);
    auto [code, msg] = failure(p);
    EXPECT_EQ(code, ErrorCode::corrupt_file);
    EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;

    write_all(p, good.substr(0, good.size() - 100));  // cut short
    std::tie(code, msg) = failure(p);
    EXPECT_EQ(code, ErrorCode::corrupt_file);
    EXPECT_NE(msg.find(p.string()), std::string::npos);

    write_all(p, "GGUF" + good.substr(4));
    std::tie(code, msg) = failure(p);
    EXPECT_NE(msg.find("not an rdic sequence file"), std::string::npos) << msg;

    write_all(p, "");
    EXPECT_EQ(failure(p).first, ErrorCode::corrupt_file);

    std::tie(code, msg) = failure(dir.path() / "missing.seq");
    EXPECT_EQ(code, ErrorCode::file_not_found);
}

TEST(SequenceFile, UnknownVersionIsNamed) {
    test::TempDir dir;
    const auto p = dir.path() / "a.seq";
    write_sequence_file(p, sample(), kSha);
    std::string bytes = read_all(p);
    bytes[8] = 3;  // version 3, checksum recomputed so only the version is wrong
    bytes = bytes.substr(0, bytes.size() - 4);
    const uint32_t crc = crc32c(bytes);
    write_all(p, bytes + std::string(reinterpret_cast<const char*>(&crc), 4));
    const auto [code, msg] = failure(p);
    EXPECT_EQ(code, ErrorCode::corrupt_file);
    EXPECT_NE(msg.find("format version 3"), std::string::npos) << msg;
}

// Files written before version 2 (sha256 trailer) still restore, and their damage is found.
TEST(SequenceFile, VersionOneFilesAreStillRead) {
    test::TempDir dir;
    const auto p = dir.path() / "a.seq";
    write_sequence_file(p, sample(), kSha);
    std::string v1 = read_all(p);
    v1 = v1.substr(0, v1.size() - 4);
    v1[8] = 1;
    write_all(p, v1 + sha256_hex(v1));
    const SequenceSnapshot back = read_sequence_file(p, kSha);
    EXPECT_EQ(back.tokens, sample().tokens);
    EXPECT_EQ(back.kv, sample().kv);
    std::string flipped = v1 + sha256_hex(v1);
    flipped[200] = static_cast<char>(flipped[200] ^ 1);
    write_all(p, flipped);
    EXPECT_NE(failure(p).second.find("checksum mismatch"), std::string::npos);
}

TEST(Crc32c, KnownValueExtensionAndPortableLoopAgree) {
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the published check value
    EXPECT_EQ(crc32c(""), 0u);
    std::string data;
    for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>((i * 131) >> 3));
    for (const size_t cut : {0u, 1u, 7u, 8u, 500u, 999u, 1000u}) {
        const std::string_view v(data);
        EXPECT_EQ(crc32c(v.substr(cut), crc32c(v.substr(0, cut))), crc32c(v)) << cut;
    }
    EXPECT_EQ(detail::crc32c_portable(data, 0), crc32c(data));
    EXPECT_EQ(detail::crc32c_portable("123456789", 0), 0xE3069283u);
}

TEST(SequenceFile, BadModelHashAndUnwritableFolderAreErrors) {
    EXPECT_THROW(write_sequence_file("/tmp/x.seq", sample(), "abc"), Error);
    try {
        write_sequence_file("/nonexistent-dir/x.seq", sample(), kSha);
        FAIL() << "wrote into a folder that does not exist";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.seq.tmp: cannot create: No such "
                                             "file or directory"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace rdic
