// rdic_shape_gguf: writes a GGUF with Gemma 3 12B's shapes and random weights in Q4_K_M-like
// types, for timing rdic on a large model without downloading one (the text it writes is noise,
// the timings are real). Built only with -DRDIC_BENCH_TOOLS=ON; docs/performance.md.
//
//   rdic_shape_gguf extract-vocab gemma-3-270m-q4_k_m.gguf vocab.gguf   # tokenizer keys only
//   rdic_shape_gguf write --vocab vocab.gguf --out gemma3-12b-shape.gguf [--layers 48] [--seed 1]
//
// Shapes (Gemma 3 12B's config): 48 layers, hidden 3840, FFN 15360, 16 query heads, 8 KV heads,
// head dim 256, sliding window 1024 on five of every six layers (llama.cpp's Gemma 3 pattern),
// vocabulary and tokenizer of the vocab GGUF (Gemma 3's 262,144 tokens).
// Types, as llama.cpp's Q4_K_M (src/llama-quant.cpp, llama_tensor_get_type): Q4_K everywhere,
// except Q6_K for the tied token embedding (the output matrix) and for attn_v / ffn_down in the
// layers where use_more_bits(i, n) holds (the first and last eighth, and every third between);
// norms F32.
// Speed: quantizing 12B random floats would take long, so one pool of random blocks is quantized
// per type and every tensor is filled from it at a seeded block offset (weights repeat across
// tensors; no kernel's speed depends on the values).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ggml.h"
#include "gguf.h"

namespace {

constexpr const char* kArch = "gemma3";

struct Shape {
    int64_t n_layer = 48;
    int64_t n_embd = 3840;
    int64_t n_ff = 15360;
    int64_t n_head = 16;
    int64_t n_head_kv = 8;
    int64_t head_dim = 256;
    int64_t window = 1024;
    int64_t swa_pattern = 6;
};

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "rdic_shape_gguf: error: %s\n", msg.c_str());
    std::exit(2);
}

gguf_context* open_meta(const std::string& path) {
    gguf_init_params p{.no_alloc = true, .ctx = nullptr};
    gguf_context* g = gguf_init_from_file(path.c_str(), p);
    if (!g) die(path + ": not a readable GGUF file");
    return g;
}

// Copies one key-value pair (any type, arrays included) from src to dst.
void copy_key(gguf_context* dst, const gguf_context* src, int64_t id) {
    const char* key = gguf_get_key(src, id);
    switch (gguf_get_kv_type(src, id)) {
        case GGUF_TYPE_UINT8:
            gguf_set_val_u8(dst, key, gguf_get_val_u8(src, id));
            break;
        case GGUF_TYPE_INT8:
            gguf_set_val_i8(dst, key, gguf_get_val_i8(src, id));
            break;
        case GGUF_TYPE_UINT16:
            gguf_set_val_u16(dst, key, gguf_get_val_u16(src, id));
            break;
        case GGUF_TYPE_INT16:
            gguf_set_val_i16(dst, key, gguf_get_val_i16(src, id));
            break;
        case GGUF_TYPE_UINT32:
            gguf_set_val_u32(dst, key, gguf_get_val_u32(src, id));
            break;
        case GGUF_TYPE_INT32:
            gguf_set_val_i32(dst, key, gguf_get_val_i32(src, id));
            break;
        case GGUF_TYPE_FLOAT32:
            gguf_set_val_f32(dst, key, gguf_get_val_f32(src, id));
            break;
        case GGUF_TYPE_UINT64:
            gguf_set_val_u64(dst, key, gguf_get_val_u64(src, id));
            break;
        case GGUF_TYPE_INT64:
            gguf_set_val_i64(dst, key, gguf_get_val_i64(src, id));
            break;
        case GGUF_TYPE_FLOAT64:
            gguf_set_val_f64(dst, key, gguf_get_val_f64(src, id));
            break;
        case GGUF_TYPE_BOOL:
            gguf_set_val_bool(dst, key, gguf_get_val_bool(src, id));
            break;
        case GGUF_TYPE_STRING:
            gguf_set_val_str(dst, key, gguf_get_val_str(src, id));
            break;
        case GGUF_TYPE_ARRAY: {
            const gguf_type t = gguf_get_arr_type(src, id);
            const size_t n = gguf_get_arr_n(src, id);
            if (t == GGUF_TYPE_STRING) {
                std::vector<const char*> s(n);
                for (size_t i = 0; i < n; ++i) s[i] = gguf_get_arr_str(src, id, i);
                gguf_set_arr_str(dst, key, s.data(), n);
            } else {
                gguf_set_arr_data(dst, key, t, gguf_get_arr_data(src, id), n);
            }
            break;
        }
        default:
            die(std::string("key ") + key + ": unsupported GGUF type");
    }
}

int extract_vocab(const std::string& in, const std::string& out) {
    gguf_context* src = open_meta(in);
    gguf_context* dst = gguf_init_empty();
    int n = 0;
    for (int64_t i = 0; i < gguf_get_n_kv(src); ++i) {
        const std::string key = gguf_get_key(src, i);
        if (key.rfind("tokenizer.", 0) == 0 || key == "general.architecture") {
            copy_key(dst, src, i);
            ++n;
        }
    }
    if (gguf_find_key(dst, "tokenizer.ggml.tokens") < 0) die(in + ": has no tokenizer.ggml.tokens");
    if (!gguf_write_to_file(dst, out.c_str(), /*only_meta=*/false)) die(out + ": cannot write");
    std::printf("%s: %d tokenizer keys from %s\n", out.c_str(), n, in.c_str());
    gguf_free(dst);
    gguf_free(src);
    return 0;
}

bool use_more_bits(int64_t i, int64_t n) {  // llama-quant.cpp's rule for Q4_K_M
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

struct Pool {
    std::vector<uint8_t> bytes;  // quantized random blocks
    size_t block_bytes = 0;
};

// `n_rows` rows of 3840 random normal floats (std 0.02) quantized to `type`.
Pool make_pool(ggml_type type, std::mt19937& rng) {
    constexpr int64_t n_per_row = 3840, n_rows = 1024;
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> f(static_cast<size_t>(n_per_row * n_rows));
    for (float& x : f) x = normal(rng);
    Pool p;
    p.block_bytes = ggml_type_size(type);
    p.bytes.resize(ggml_row_size(type, n_per_row) * n_rows);
    ggml_quantize_chunk(type, f.data(), p.bytes.data(), 0, n_rows, n_per_row, nullptr);
    return p;
}

struct TensorSpec {
    std::string name;
    ggml_type type;
    int64_t ne0, ne1;  // ne1 = 1 for vectors
};

int write_model(const std::string& vocab_path, const std::string& out, const Shape& s,
                uint32_t seed) {
    gguf_context* vocab = open_meta(vocab_path);
    const int64_t tok_id = gguf_find_key(vocab, "tokenizer.ggml.tokens");
    if (tok_id < 0) die(vocab_path + ": has no tokenizer.ggml.tokens");
    const auto n_vocab = static_cast<int64_t>(gguf_get_arr_n(vocab, tok_id));

    gguf_context* g = gguf_init_empty();
    auto key = [](const char* k) { return std::string(kArch) + "." + k; };
    gguf_set_val_str(g, "general.architecture", kArch);
    gguf_set_val_str(g, "general.type", "model");
    gguf_set_val_str(g, "general.name", "Gemma 3 12B shape (random weights)");
    gguf_set_val_u32(g, "general.file_type", 15);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
    gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);
    gguf_set_val_u32(g, key("context_length").c_str(), 131072);
    gguf_set_val_u32(g, key("embedding_length").c_str(), static_cast<uint32_t>(s.n_embd));
    gguf_set_val_u32(g, key("block_count").c_str(), static_cast<uint32_t>(s.n_layer));
    gguf_set_val_u32(g, key("feed_forward_length").c_str(), static_cast<uint32_t>(s.n_ff));
    gguf_set_val_u32(g, key("attention.head_count").c_str(), static_cast<uint32_t>(s.n_head));
    gguf_set_val_u32(g, key("attention.head_count_kv").c_str(), static_cast<uint32_t>(s.n_head_kv));
    gguf_set_val_u32(g, key("attention.key_length").c_str(), static_cast<uint32_t>(s.head_dim));
    gguf_set_val_u32(g, key("attention.value_length").c_str(), static_cast<uint32_t>(s.head_dim));
    gguf_set_val_f32(g, key("attention.layer_norm_rms_epsilon").c_str(), 1e-6f);
    gguf_set_val_u32(g, key("attention.sliding_window").c_str(), static_cast<uint32_t>(s.window));
    gguf_set_val_u32(g, key("attention.sliding_window_pattern").c_str(),
                     static_cast<uint32_t>(s.swa_pattern));
    gguf_set_val_f32(g, key("rope.freq_base").c_str(), 1e6f);
    gguf_set_val_f32(g, key("rope.freq_base_swa").c_str(), 1e4f);
    gguf_set_val_str(g, key("rope.scaling.type").c_str(), "linear");
    gguf_set_val_f32(g, key("rope.scaling.factor").c_str(), 8.0f);
    for (int64_t i = 0; i < gguf_get_n_kv(vocab); ++i) {
        if (std::string(gguf_get_key(vocab, i)).rfind("tokenizer.", 0) == 0) copy_key(g, vocab, i);
    }

    std::vector<TensorSpec> specs;
    specs.push_back({"token_embd.weight", GGML_TYPE_Q6_K, s.n_embd, n_vocab});
    specs.push_back({"output_norm.weight", GGML_TYPE_F32, s.n_embd, 1});
    const int64_t q = s.n_head * s.head_dim, kv = s.n_head_kv * s.head_dim;
    for (int64_t i = 0; i < s.n_layer; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        const ggml_type hi = use_more_bits(i, s.n_layer) ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_K;
        specs.push_back({b + "attn_norm.weight", GGML_TYPE_F32, s.n_embd, 1});
        specs.push_back({b + "attn_q.weight", GGML_TYPE_Q4_K, s.n_embd, q});
        specs.push_back({b + "attn_k.weight", GGML_TYPE_Q4_K, s.n_embd, kv});
        specs.push_back({b + "attn_v.weight", hi, s.n_embd, kv});
        specs.push_back({b + "attn_q_norm.weight", GGML_TYPE_F32, s.head_dim, 1});
        specs.push_back({b + "attn_k_norm.weight", GGML_TYPE_F32, s.head_dim, 1});
        specs.push_back({b + "attn_output.weight", GGML_TYPE_Q4_K, q, s.n_embd});
        specs.push_back({b + "post_attention_norm.weight", GGML_TYPE_F32, s.n_embd, 1});
        specs.push_back({b + "ffn_norm.weight", GGML_TYPE_F32, s.n_embd, 1});
        specs.push_back({b + "ffn_gate.weight", GGML_TYPE_Q4_K, s.n_embd, s.n_ff});
        specs.push_back({b + "ffn_up.weight", GGML_TYPE_Q4_K, s.n_embd, s.n_ff});
        specs.push_back({b + "ffn_down.weight", hi, s.n_ff, s.n_embd});
        specs.push_back({b + "post_ffw_norm.weight", GGML_TYPE_F32, s.n_embd, 1});
    }

    ggml_init_params ip{.mem_size = ggml_tensor_overhead() * (specs.size() + 8),
                        .mem_buffer = nullptr,
                        .no_alloc = true};
    ggml_context* meta = ggml_init(ip);
    for (const TensorSpec& t : specs) {
        ggml_tensor* x = t.ne1 == 1 ? ggml_new_tensor_1d(meta, t.type, t.ne0)
                                    : ggml_new_tensor_2d(meta, t.type, t.ne0, t.ne1);
        ggml_set_name(x, t.name.c_str());
        gguf_add_tensor(g, x);
    }

    std::FILE* f = std::fopen(out.c_str(), "wb");
    if (!f) die(out + ": cannot open for writing");
    if (!gguf_write_to_file_ptr(g, f, /*only_meta=*/true)) die(out + ": cannot write metadata");
    const auto data_start = static_cast<size_t>(std::ftell(f));

    std::mt19937 rng(seed);
    const Pool q4 = make_pool(GGML_TYPE_Q4_K, rng);
    const Pool q6 = make_pool(GGML_TYPE_Q6_K, rng);
    std::vector<float> ones(static_cast<size_t>(std::max(s.n_embd, s.head_dim)), 1.0f);
    std::vector<uint8_t> zeros(gguf_get_alignment(g), 0);
    size_t total = 0;
    for (int64_t i = 0; i < gguf_get_n_tensors(g); ++i) {
        const size_t want = data_start + gguf_get_tensor_offset(g, i);
        const auto at = static_cast<size_t>(std::ftell(f));
        if (at > want) die("tensor layout out of order");
        std::fwrite(zeros.data(), 1, want - at, f);
        const size_t size = gguf_get_tensor_size(g, i);
        const ggml_type type = gguf_get_tensor_type(g, i);
        if (type == GGML_TYPE_F32) {
            std::fwrite(ones.data(), 1, size, f);  // RMS-norm gains of 1
        } else {
            const Pool& p = type == GGML_TYPE_Q6_K ? q6 : q4;
            const size_t n_blocks = p.bytes.size() / p.block_bytes;
            size_t off = (static_cast<size_t>(rng()) % n_blocks) * p.block_bytes;
            for (size_t left = size; left > 0;) {
                const size_t n = std::min(left, p.bytes.size() - off);
                std::fwrite(p.bytes.data() + off, 1, n, f);
                left -= n;
                off = 0;
            }
        }
        total += size;
    }
    if (std::fclose(f) != 0) die(out + ": write failed (disk full?)");
    std::printf("%s: %lld tensors, %.2f GB of weights, %lld layers, vocab %lld\n", out.c_str(),
                static_cast<long long>(gguf_get_n_tensors(g)), static_cast<double>(total) / 1e9,
                static_cast<long long>(s.n_layer), static_cast<long long>(n_vocab));
    ggml_free(meta);
    gguf_free(g);
    gguf_free(vocab);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "extract-vocab") return extract_vocab(a[1], a[2]);
    if (!a.empty() && a[0] == "write") {
        std::string vocab, out;
        Shape s;
        uint32_t seed = 1;
        for (size_t i = 1; i + 1 < a.size(); i += 2) {
            if (a[i] == "--vocab")
                vocab = a[i + 1];
            else if (a[i] == "--out")
                out = a[i + 1];
            else if (a[i] == "--layers")
                s.n_layer = std::stoll(a[i + 1]);
            else if (a[i] == "--seed")
                seed = static_cast<uint32_t>(std::stoul(a[i + 1]));
            else
                die("unknown option " + a[i]);
        }
        if (vocab.empty() || out.empty()) die("write needs --vocab FILE and --out FILE");
        if (s.n_layer < 1) die("--layers must be >= 1");
        return write_model(vocab, out, s, seed);
    }
    std::fprintf(stderr,
                 "usage: rdic_shape_gguf extract-vocab MODEL.gguf VOCAB.gguf\n"
                 "       rdic_shape_gguf write --vocab VOCAB.gguf --out OUT.gguf [--layers 48] "
                 "[--seed 1]\n");
    return 2;
}
