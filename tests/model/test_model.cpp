// Loading real models: metadata a user sees in `rdic info`, and clean errors for bad files.
#include <gtest/gtest.h>

#include <filesystem>

#include "model_fixture.h"
#include "rdic/error.h"
#include "support/gguf_writer.h"

namespace rdic {
namespace {

namespace fs = std::filesystem;

TEST(Model, GemmaArchitectureAndSlidingWindow) {
    const ModelInfo& info = test::gemma()->info();
    EXPECT_EQ(info.architecture, "gemma3");
    EXPECT_EQ(info.n_layers, 18);
    EXPECT_EQ(info.n_head_kv, 1);
    EXPECT_EQ(info.head_dim_k, 256);
    EXPECT_EQ(info.head_dim_v, 256);
    EXPECT_EQ(info.n_vocab, 262144);
    EXPECT_EQ(info.swa_window, 512);
    ASSERT_TRUE(info.swa_layers_known);
    // Gemma 3: every sixth layer attends globally, the rest use the sliding window.
    for (int32_t il = 0; il < info.n_layers; ++il) {
        EXPECT_EQ(info.layer_is_swa[il], (il + 1) % 6 != 0) << "layer " << il;
    }
    EXPECT_EQ(info.n_swa_layers(), 15);
    EXPECT_FALSE(info.has_chat_template);
    EXPECT_TRUE(info.add_bos);
}

TEST(Model, GemmaKvBytesPerToken) {
    const ModelInfo& info = test::gemma()->info();
    // f16: K and V rows of 1 head x 256 = 512 bytes each, per layer.
    EXPECT_EQ(info.kv_bytes_per_token_per_layer(KvType::f16, KvType::f16), 1024u);
    EXPECT_EQ(info.kv_bytes_per_token_full(KvType::f16, KvType::f16), 3u * 1024u);
    EXPECT_EQ(info.kv_bytes_per_token_swa(KvType::f16, KvType::f16), 15u * 1024u);
    // q8_0: blocks of 32 values in 34 bytes.
    EXPECT_EQ(info.kv_bytes_per_token_per_layer(KvType::q8_0, KvType::q8_0), 2u * 272u);
    EXPECT_EQ(info.kv_bytes_per_token_per_layer(KvType::q4_0, KvType::q4_0), 2u * 144u);
}

TEST(Model, SmolLmIsPlainLlamaArchitecture) {
    const ModelInfo& info = test::smollm()->info();
    EXPECT_EQ(info.architecture, "llama");
    EXPECT_EQ(info.n_layers, 30);
    EXPECT_EQ(info.n_head_kv, 3);
    EXPECT_EQ(info.head_dim_k, 64);
    EXPECT_EQ(info.swa_window, 0);
    EXPECT_EQ(info.n_swa_layers(), 0);
    EXPECT_TRUE(info.has_chat_template);
    EXPECT_EQ(info.kv_bytes_per_token_full(KvType::f16, KvType::f16), 30u * 2u * 3u * 64u * 2u);
}

TEST(Model, TokenizeRoundTrip) {
    const auto model = test::gemma();
    const std::string text = "Isolation keeps topics apart: naïve café, 42 €.";
    const Tokens t = model->tokenize(text, /*add_bos=*/false);
    EXPECT_EQ(model->detokenize(t), text);
    const Tokens with_bos = model->tokenize(text, true);
    ASSERT_EQ(with_bos.size(), t.size() + 1);
    EXPECT_EQ(with_bos.front(), model->bos());
}

class ModelErrors : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("rdic_model_errors_" +
                std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    static ErrorCode load_error(const fs::path& p, std::string* message) {
        try {
            Model::load({.path = p});
        } catch (const Error& e) {
            *message = e.what();
            return e.code();
        }
        return ErrorCode::invalid_argument;  // no error: the EXPECTs below fail
    }
    fs::path dir_;
};

TEST_F(ModelErrors, MissingFile) {
    std::string msg;
    EXPECT_EQ(load_error(dir_ / "absent.gguf", &msg), ErrorCode::file_not_found);
    EXPECT_NE(msg.find("absent.gguf"), std::string::npos) << msg;
}

TEST_F(ModelErrors, TruncatedRealModel) {
    const fs::path cut = dir_ / "cut.gguf";
    test::copy_prefix(test::gemma_path(), cut, fs::file_size(test::gemma_path()) / 2);
    std::string msg;
    EXPECT_EQ(load_error(cut, &msg), ErrorCode::corrupt_file);
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cut.gguf"), std::string::npos) << msg;
}

TEST_F(ModelErrors, TruncatedInsideMetadata) {
    const fs::path cut = dir_ / "header.gguf";
    test::copy_prefix(test::smollm_path(), cut, 4000);
    std::string msg;
    EXPECT_EQ(load_error(cut, &msg), ErrorCode::corrupt_file);
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST_F(ModelErrors, NotAGgufFile) {
    const fs::path p = dir_ / "text.gguf";
    std::ofstream(p) << "this is a text file, not a model\n";
    std::string msg;
    EXPECT_EQ(load_error(p, &msg), ErrorCode::corrupt_file);
    EXPECT_NE(msg.find("magic"), std::string::npos) << msg;
}

TEST_F(ModelErrors, UnsupportedArchitecture) {
    const fs::path p = dir_ / "alien.gguf";
    test::unknown_architecture_gguf().save(p);
    std::string msg;
    EXPECT_EQ(load_error(p, &msg), ErrorCode::unsupported_model);
    EXPECT_NE(msg.find("rdic-unknown-arch"), std::string::npos) << msg;
}

}  // namespace
}  // namespace rdic
