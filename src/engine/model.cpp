#include "rdic/engine/model.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <regex>

#include "ggml-backend.h"
#include "ggml.h"
#include "ggml_types.h"
#include "llama.h"
#include "llama_log.h"
#include "rdic/error.h"
#include "rdic/gguf_probe.h"

namespace rdic {

namespace {

std::string meta(const llama_model* m, const std::string& key) {
    char buf[512];
    const int32_t n = llama_model_meta_val_str(m, key.c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, std::min<size_t>(n, sizeof buf - 1));
}

// How rdic names a compute device everywhere (`rdic --version`, config.json's "device").
std::string describe_device(ggml_backend_dev_t dev) {
    return std::string(ggml_backend_dev_name(dev)) + " (" + ggml_backend_dev_description(dev) + ")";
}

// ModelInfo::device from the per-layer placement: each device once, in layer order; "" when
// any layer's device is unknown.
std::string describe_layer_devices(const std::vector<std::string>& layer_device) {
    std::vector<std::string> seen;
    for (const std::string& d : layer_device) {
        if (d == "?" || d.empty()) return "";
        if (std::find(seen.begin(), seen.end(), d) == seen.end()) seen.push_back(d);
    }
    std::string out;
    for (const std::string& name : seen) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(name.c_str());
        out += (out.empty() ? "" : " + ") + (dev != nullptr ? describe_device(dev) : name);
    }
    return out;
}

int32_t meta_int(const llama_model* m, const std::string& key, int32_t fallback) {
    const std::string v = meta(m, key);
    int32_t out = fallback;
    if (!v.empty()) std::from_chars(v.data(), v.data() + v.size(), out);
    return out;
}

}  // namespace

std::string llama_cpp_version() {
    return llama_version();
}

std::vector<std::string> compute_devices() {
    detail::ensure_backend();
    std::vector<std::string> out;
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        out.push_back(describe_device(ggml_backend_dev_get(i)));
    }
    return out;
}

KvType parse_kv_type(std::string_view name) {
    for (KvType t : {KvType::f32, KvType::f16, KvType::bf16, KvType::q8_0, KvType::q5_1,
                     KvType::q5_0, KvType::q4_1, KvType::q4_0}) {
        if (to_string(t) == name) return t;
    }
    throw Error(ErrorCode::invalid_argument,
                "unknown KV type '" + std::string(name) +
                    "' (expected f32, f16, bf16, q8_0, q5_1, q5_0, q4_1 or q4_0)");
}

std::string_view to_string(KvType t) {
    switch (t) {
        case KvType::f32:
            return "f32";
        case KvType::f16:
            return "f16";
        case KvType::bf16:
            return "bf16";
        case KvType::q8_0:
            return "q8_0";
        case KvType::q5_1:
            return "q5_1";
        case KvType::q5_0:
            return "q5_0";
        case KvType::q4_1:
            return "q4_1";
        case KvType::q4_0:
            return "q4_0";
    }
    return "?";
}

int32_t ModelInfo::n_swa_layers() const {
    return static_cast<int32_t>(std::count(layer_is_swa.begin(), layer_is_swa.end(), true));
}

uint64_t ModelInfo::kv_bytes_per_token_per_layer(KvType type_k, KvType type_v) const {
    const int64_t k_width = int64_t{n_head_kv} * head_dim_k;
    const int64_t v_width = int64_t{n_head_kv} * head_dim_v;
    return ggml_row_size(detail::to_ggml(type_k), k_width) +
           ggml_row_size(detail::to_ggml(type_v), v_width);
}

uint64_t ModelInfo::kv_bytes_per_token_full(KvType type_k, KvType type_v) const {
    return static_cast<uint64_t>(n_layers - n_swa_layers()) *
           kv_bytes_per_token_per_layer(type_k, type_v);
}

uint64_t ModelInfo::kv_bytes_per_token_swa(KvType type_k, KvType type_v) const {
    return static_cast<uint64_t>(n_swa_layers()) * kv_bytes_per_token_per_layer(type_k, type_v);
}

std::shared_ptr<const Model> Model::load(const ModelOptions& options) {
    const GgufSummary probe = probe_gguf(options.path);  // missing / truncated / corrupt

    detail::ensure_backend();
    detail::LogCapture capture;
    llama_model_params params = llama_model_default_params();
    params.n_gpu_layers = options.n_gpu_layers;
    params.load_mode = options.use_mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    llama_model* raw = llama_model_load_from_file(options.path.c_str(), params);
    if (raw == nullptr) {
        std::string why = capture.first_error();
        const bool unknown_arch = why.find("unknown model architecture") != std::string::npos;
        if (why.empty()) why = "llama.cpp could not load it";
        throw Error(unknown_arch ? ErrorCode::unsupported_model : ErrorCode::corrupt_file,
                    options.path.string() + ": cannot load model (architecture '" +
                        probe.architecture + "'): " + why);
    }
    std::shared_ptr<Model> model(new Model());
    model->model_ = raw;
    model->vocab_ = llama_model_get_vocab(raw);
    if (!llama_model_has_decoder(raw) || llama_model_has_encoder(raw)) {
        throw Error(ErrorCode::unsupported_model, options.path.string() + ": architecture '" +
                                                      probe.architecture +
                                                      "' is not a decoder-only language model");
    }
    if (llama_model_is_recurrent(raw) || llama_model_is_hybrid(raw)) {
        throw Error(ErrorCode::unsupported_model,
                    options.path.string() + ": architecture '" + probe.architecture +
                        "' is recurrent; rdic needs an attention KV cache to fork sequences");
    }

    ModelInfo& info = model->info_;
    info.path = options.path;
    info.file_bytes = probe.file_bytes;
    info.architecture = probe.architecture;
    info.name = probe.name;
    char desc[256];
    llama_model_desc(raw, desc, sizeof desc);
    info.description = desc;
    info.n_params = llama_model_n_params(raw);
    info.weight_bytes = llama_model_size(raw);
    info.n_layers = llama_model_n_layer(raw);
    info.n_embd = llama_model_n_embd(raw);
    info.n_head = llama_model_n_head(raw);
    info.n_head_kv = llama_model_n_head_kv(raw);
    const int32_t head_dim = info.n_head > 0 ? info.n_embd / info.n_head : 0;
    info.head_dim_k = meta_int(raw, info.architecture + ".attention.key_length", head_dim);
    info.head_dim_v = meta_int(raw, info.architecture + ".attention.value_length", head_dim);
    info.n_ctx_train = llama_model_n_ctx_train(raw);
    info.n_vocab = llama_vocab_n_tokens(model->vocab_);
    info.swa_window = llama_model_n_swa(raw);
    info.has_chat_template = llama_model_chat_template(raw, nullptr) != nullptr;
    info.add_bos = llama_vocab_get_add_bos(model->vocab_);

    // Per-layer placement and sliding-window flags: llama.cpp's public API has no accessor, so
    // read them from its load log ("layer N assigned to device D, is_swa = S"). If the format
    // changes, fall back to "all layers full" (an upper bound) and say so in info.
    info.layer_is_swa.assign(info.n_layers, false);
    info.layer_device.assign(info.n_layers, "?");
    static const std::regex layer_re(R"(layer\s+(\d+) assigned to device (\S+), is_swa = (\d))");
    int32_t n_seen = 0;
    for (const std::string& line : capture.lines()) {
        std::smatch m;
        if (!std::regex_search(line, m, layer_re)) continue;
        const int il = std::stoi(m[1]);
        if (il < 0 || il >= info.n_layers) continue;
        info.layer_device[il] = m[2];
        info.layer_is_swa[il] = m[3] == "1";
        ++n_seen;
    }
    info.device = describe_layer_devices(info.layer_device);
    info.swa_layers_known = info.swa_window == 0 || n_seen == info.n_layers;
    if (!info.swa_layers_known) info.layer_is_swa.assign(info.n_layers, false);
    if (info.swa_window == 0) info.layer_is_swa.assign(info.n_layers, false);
    return model;
}

Model::~Model() {
    if (model_ != nullptr) llama_model_free(model_);
}

Tokens Model::tokenize(std::string_view text, bool add_bos, bool parse_special) const {
    const bool add_special = add_bos && info_.add_bos;
    std::vector<llama_token> buf(text.size() + 8);
    int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), buf.data(),
                               static_cast<int32_t>(buf.size()), add_special, parse_special);
    if (n < 0) {
        buf.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), buf.data(),
                           static_cast<int32_t>(buf.size()), add_special, parse_special);
    }
    if (n < 0) {
        throw Error(ErrorCode::invalid_argument,
                    "text of " + std::to_string(text.size()) + " bytes cannot be tokenized");
    }
    Tokens out;
    out.reserve(static_cast<size_t>(n));
    const llama_token bos_id = llama_vocab_bos(vocab_);
    for (int32_t i = 0; i < n; ++i) {
        // Text that already starts with the BOS marker must not get a second BOS.
        if (i == 1 && add_special && buf[0] == bos_id && buf[1] == bos_id) continue;
        out.emplace_back(buf[i]);
    }
    return out;
}

std::string Model::token_to_piece(TokenId token, bool render_special) const {
    char buf[256];
    int32_t n = llama_token_to_piece(vocab_, token.value, buf, sizeof buf, 0, render_special);
    if (n >= 0) return std::string(buf, static_cast<size_t>(n));
    std::string big(static_cast<size_t>(-n), '\0');
    n = llama_token_to_piece(vocab_, token.value, big.data(), static_cast<int32_t>(big.size()), 0,
                             render_special);
    big.resize(static_cast<size_t>(std::max(n, 0)));
    return big;
}

std::string Model::detokenize(const Tokens& tokens) const {
    std::string out;
    for (TokenId t : tokens) out += token_to_piece(t);
    return out;
}

bool Model::is_end_of_generation(TokenId token) const {
    return llama_vocab_is_eog(vocab_, token.value);
}

TokenId Model::bos() const {
    return TokenId(llama_vocab_bos(vocab_));
}

void check_same_vocabulary(const Model& target, const Model& draft) {
    const llama_vocab* a = llama_model_get_vocab(target.raw());
    const llama_vocab* b = llama_model_get_vocab(draft.raw());
    auto refuse = [&](const std::string& why) {
        throw Error(ErrorCode::invalid_argument, "draft model " + draft.info().path.string() +
                                                     " has another vocabulary than the target " +
                                                     target.info().path.string() + ": " + why);
    };
    const int32_t n = llama_vocab_n_tokens(a);
    if (llama_vocab_n_tokens(b) != n) {
        refuse(std::to_string(llama_vocab_n_tokens(b)) + " tokens against " + std::to_string(n));
    }
    if (llama_vocab_type(a) != llama_vocab_type(b)) refuse("another tokenizer type");
    if (llama_vocab_bos(a) != llama_vocab_bos(b)) refuse("another BOS token");
    for (llama_token t = 0; t < n; ++t) {
        if (std::strcmp(llama_vocab_get_text(a, t), llama_vocab_get_text(b, t)) != 0) {
            refuse("token " + std::to_string(t) + " differs");
        }
        if (llama_vocab_is_eog(a, t) != llama_vocab_is_eog(b, t)) {
            refuse("token " + std::to_string(t) + " ends generation in one only");
        }
    }
}

std::string Model::chat_template() const {
    const char* t = llama_model_chat_template(model_, nullptr);
    return t == nullptr ? std::string() : std::string(t);
}

}  // namespace rdic
