// `rdic info`: what a model is and what its KV cache costs per token.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "rdic/engine/chat.h"
#include "rdic/engine/model.h"
#include "rdic/model_paths.h"

namespace rdic::cli {

namespace {

struct InfoArgs {
    std::string model;
    int32_t n_gpu_layers = -1;
    bool json = false;
};

std::string swa_pattern(const ModelInfo& info) {
    if (info.swa_window == 0) return "none";
    if (!info.swa_layers_known) return "unknown (counted as full)";
    std::string full;
    for (int32_t il = 0; il < info.n_layers; ++il) {
        if (!info.layer_is_swa[il]) full += (full.empty() ? "" : ",") + std::to_string(il);
    }
    return std::to_string(info.n_swa_layers()) +
           " sliding, full-attention layers: " + (full.empty() ? "none" : full);
}

int run_info(const InfoArgs& args) {
    const auto model = load_model(args.model, args.n_gpu_layers);
    const ModelInfo& info = model->info();
    const ChatFormatter chat(*model);
    nlohmann::json kv_per_token;
    for (KvType t : {KvType::f16, KvType::q8_0, KvType::q4_0}) {
        kv_per_token[std::string(to_string(t))] = {
            {"full_layers", info.kv_bytes_per_token_full(t, t)},
            {"swa_layers", info.kv_bytes_per_token_swa(t, t)},
            {"all_layers", info.kv_bytes_per_token_full(t, t) + info.kv_bytes_per_token_swa(t, t)},
        };
    }
    if (args.json) {
        nlohmann::json j = model_shape_json(info);
        j.update({
            {"path", info.path.string()},
            {"file_bytes", info.file_bytes},
            {"name", info.name},
            {"head_dim_k", info.head_dim_k},
            {"head_dim_v", info.head_dim_v},
            {"n_ctx_train", info.n_ctx_train},
            {"swa_window", info.swa_window},
            {"layer_is_swa", info.layer_is_swa},
            {"swa_layers_known", info.swa_layers_known},
            {"has_chat_template", info.has_chat_template},
            {"chat_template_used", chat.template_source()},
            {"kv_bytes_per_token", kv_per_token},
        });
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    const auto mib = [](uint64_t b) {
        return std::to_string(static_cast<double>(b) / (1024.0 * 1024.0)).substr(0, 6);
    };
    std::cout << "model          " << info.path.string() << " (" << mib(info.file_bytes)
              << " MiB)\n"
              << "name           " << info.name << "\n"
              << "architecture   " << info.architecture << " — " << info.description << "\n"
              << "parameters     " << info.n_params << "\n"
              << "layers         " << info.n_layers << " (embedding " << info.n_embd << ", "
              << info.n_head << " heads, " << info.n_head_kv << " KV heads, head dim "
              << info.head_dim_k << "/" << info.head_dim_v << ")\n"
              << "context        " << info.n_ctx_train << " tokens trained\n"
              << "vocabulary     " << info.n_vocab << " tokens\n"
              << "sliding window " << info.swa_window << " tokens; " << swa_pattern(info) << "\n"
              << "chat template  " << (info.has_chat_template ? "present in GGUF" : "absent")
              << "; rdic uses " << chat.template_source() << "\n"
              << "KV per token   ";
    for (KvType t : {KvType::f16, KvType::q8_0, KvType::q4_0}) {
        std::cout << to_string(t) << " " << info.kv_bytes_per_token_full(t, t) << " B full + "
                  << info.kv_bytes_per_token_swa(t, t) << " B window"
                  << (t == KvType::q4_0 ? "\n" : "; ");
    }
    return 0;
}

}  // namespace

Action add_info(CLI::App& app) {
    auto args = std::make_shared<InfoArgs>();
    app.add_option("--model", args->model, "GGUF file (default: the cached default model)");
    app.add_option("--n-gpu-layers", args->n_gpu_layers, "Layers to offload (-1 = all)");
    app.add_flag("--json", args->json, "Print JSON");
    return [args] { return run_info(*args); };
}

}  // namespace rdic::cli
