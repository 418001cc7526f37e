// Model: one loaded GGUF, immutable and shared by any number of Sessions.
//
//   auto model = rdic::Model::load({.path = rdic::resolve_model_path("")});
//   const rdic::ModelInfo& info = model->info();
//   rdic::Tokens toks = model->tokenize("Hello", /*add_bos=*/true);
//
// Thread-safety: all const methods may be called from any thread.
// Failure: load() throws rdic::Error (file_not_found, corrupt_file, unsupported_model,
// out_of_memory) with one line naming the file and the cause; nothing is left allocated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/types.h"

struct llama_model;
struct llama_vocab;

namespace rdic {

// llama.cpp's build string (version and commit) and the compute devices it can use, e.g.
// "CPU" or "CUDA0 (NVIDIA H100 80GB HBM3)".
std::string llama_cpp_version();
std::vector<std::string> compute_devices();

// KV-cache element types. Names match llama.cpp's (`f16`, `q8_0`, `q4_0`, ...).
enum class KvType { f32, f16, bf16, q8_0, q5_1, q5_0, q4_1, q4_0 };
KvType parse_kv_type(std::string_view name);  // throws invalid_argument
std::string_view to_string(KvType t);

struct ModelOptions {
    std::filesystem::path path;  // GGUF file
    int32_t n_gpu_layers = -1;   // layers to offload: -1 = all (no effect without a GPU backend)
    bool use_mmap = true;        // map the file instead of reading it into memory
};

struct ModelInfo {
    std::filesystem::path path;
    uint64_t file_bytes = 0;
    std::string architecture;  // general.architecture, e.g. "gemma3", "llama"
    std::string name;          // general.name
    std::string description;   // llama.cpp's one-line description (type, size, quant)
    uint64_t n_params = 0;
    uint64_t weight_bytes = 0;  // bytes of all weight tensors
    int32_t n_layers = 0;
    int32_t n_embd = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;  // per-head K width
    int32_t head_dim_v = 0;  // per-head V width
    int32_t n_ctx_train = 0;
    int32_t n_vocab = 0;
    int32_t swa_window = 0;          // sliding-window size in tokens; 0 = no sliding window
    std::vector<bool> layer_is_swa;  // per layer: true when it attends only inside the window
    bool swa_layers_known = true;    // false when llama.cpp did not report the per-layer pattern
    std::vector<std::string> layer_device;  // per layer: the backend device holding its weights
    // The devices of layer_device, each once in layer order, named as compute_devices() names
    // them, joined by " + " ("CUDA0 (NVIDIA H100 80GB HBM3)", "CUDA0 (...) + CPU (...)" with
    // a partial offload); "" when llama.cpp did not report where a layer went.
    std::string device;
    bool has_chat_template = false;  // tokenizer.chat_template present in the GGUF
    bool add_bos = false;            // the vocabulary wants a BOS token at the start

    int32_t n_swa_layers() const;
    // Bytes one token occupies in the KV cache of one layer (K + V rows).
    uint64_t kv_bytes_per_token_per_layer(KvType type_k, KvType type_v) const;
    // Bytes one token occupies across all full-attention layers / all sliding-window layers.
    uint64_t kv_bytes_per_token_full(KvType type_k, KvType type_v) const;
    uint64_t kv_bytes_per_token_swa(KvType type_k, KvType type_v) const;
};

class Model {
public:
    static std::shared_ptr<const Model> load(const ModelOptions& options);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelInfo& info() const { return info_; }

    // Text -> tokens. `add_bos` adds BOS when the vocabulary wants one; never two BOS tokens.
    // `parse_special` turns control-token text such as "<start_of_turn>" into its token.
    Tokens tokenize(std::string_view text, bool add_bos, bool parse_special = true) const;
    // One token's bytes (may be part of a UTF-8 character). Control tokens such as
    // "<start_of_turn>" render as their text with `render_special`, else as "".
    std::string token_to_piece(TokenId token, bool render_special = false) const;
    std::string detokenize(const Tokens& tokens) const;
    bool is_end_of_generation(TokenId token) const;
    TokenId bos() const;

    // The chat template stored in the GGUF, or "" when it has none.
    std::string chat_template() const;

    llama_model* raw() const { return model_; }  // for the engine's own translation units

private:
    Model() = default;
    llama_model* model_ = nullptr;
    const llama_vocab* vocab_ = nullptr;
    ModelInfo info_;
};

// Throws invalid_argument naming both files unless `draft` has exactly `target`'s vocabulary
// (same size, the same text for every token, the same BOS and end-of-generation tokens): what a
// speculative draft needs so that its token ids mean the target's.
void check_same_vocabulary(const Model& target, const Model& draft);

}  // namespace rdic
