// `rdic generate`: one prompt, one streamed answer, and its timing.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.h"
#include "commands.h"
#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/engine/session.h"
#include "rdic/model_paths.h"

namespace rdic::cli {

namespace {

struct GenerateArgs {
    std::string model;
    std::string prompt;
    std::string system;
    std::string chat_template;
    bool raw = false;
    bool ignore_eog = false;
    int32_t max_tokens = 128;
    SamplerOptions sampling;
    int32_t n_ctx = 4096;
    int32_t n_gpu_layers = -1;
    int32_t n_threads = 0;
    DraftArgs draft;
};

int run_generate(const GenerateArgs& args) {
    validate(args.sampling);
    const auto model = load_model(args.model, args.n_gpu_layers);
    const SessionOptions so{.n_ctx = args.n_ctx, .n_seq_max = 1, .n_threads = args.n_threads};
    Session session(model, so);
    const auto draft_model = load_draft(args.draft, *model, args.n_gpu_layers);
    std::optional<Session> draft;
    if (draft_model) draft.emplace(draft_model, so);
    const ChatFormatter chat(*model, args.chat_template);
    GenerationRequest req;
    if (args.raw) {
        req.prompt = model->tokenize(args.prompt, /*add_bos=*/true);
    } else {
        std::vector<ChatMessage> msgs;
        if (!args.system.empty()) msgs.push_back({"system", args.system});
        msgs.push_back({"user", args.prompt});
        req.prompt = chat.tokenize(chat.format(msgs));
        // Fixed length: the end-of-turn marker's text must not stop it either.
        if (!args.ignore_eog) req.stop = chat.stop_strings();
    }
    Sequence seq = session.open();
    req.seq = &seq;
    req.sampling = args.sampling;
    req.max_tokens = args.max_tokens;
    req.ignore_eog = args.ignore_eog;
    GenerateOptions opts;
    opts.on_text = [](size_t, std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    };
    if (draft) {
        opts.draft = &*draft;
        opts.n_draft_max = args.draft.n_max;
        opts.draft_p_min = args.draft.p_min;
    }
    GenerateStats stats;
    const auto results = generate(session, std::span(&req, 1), opts, &stats);
    const SequenceTiming& t = results[0].timing;
    const SpeculationStats& sp = results[0].speculation;
    std::printf("\n");
    std::fprintf(stderr,
                 "[%s] prompt %d tokens, prefill %.1f ms (%.0f tok/s), TTFT %.1f ms, %d tokens at "
                 "%.1f tok/s, stop: %s, KV %.2f MiB\n",
                 model->info().name.c_str(), t.n_prompt_tokens, t.prefill_ms,
                 t.prefill_ms > 0 ? t.n_prompt_tokens * 1000.0 / t.prefill_ms : 0.0, t.ttft_ms,
                 t.n_generated, t.decode_tokens_per_s,
                 std::string(to_string(results[0].stop_reason)).c_str(),
                 static_cast<double>(seq.kv_bytes()) / (1024.0 * 1024.0));
    if (draft) {
        std::fprintf(
            stderr,
            "[draft %s] drafted %d, accepted %d (%.1f%%), %d target decode calls, %.2f "
            "tokens per call; decode %.0f ms, of which the draft's %d calls %.0f ms\n",
            draft_model->info().name.c_str(), sp.n_drafted, sp.n_accepted,
            sp.n_drafted > 0 ? 100.0 * sp.n_accepted / sp.n_drafted : 0.0, sp.n_target_calls,
            sp.n_target_calls > 0 ? static_cast<double>(t.n_generated) / sp.n_target_calls : 0.0,
            stats.decode_ms, stats.n_draft_calls, stats.draft_ms);
    }
    return 0;
}

}  // namespace

Action add_generate(CLI::App& app) {
    auto args = std::make_shared<GenerateArgs>();
    app.add_option("--model", args->model, "GGUF file (default: the cached default model)");
    app.add_option("--prompt,-p", args->prompt, "The user's message")->required();
    app.add_option("--system", args->system, "Optional system message");
    app.add_flag("--raw", args->raw, "Feed the prompt as plain text, without the chat template");
    app.add_option("--chat-template", args->chat_template,
                   "Template name (gemma, chatml, ...) overriding the GGUF's");
    app.add_flag("--ignore-eos", args->ignore_eog,
                 "Do not stop at end-of-generation tokens (always generate --max-tokens)");
    app.add_option("--max-tokens,-n", args->max_tokens, "Most tokens to generate")
        ->check(CLI::Range(0, 1 << 20));
    add_sampling_options(app, args->sampling);
    app.add_option("--ctx", args->n_ctx, "Context size in tokens")->check(CLI::Range(16, 1 << 20));
    app.add_option("--n-gpu-layers", args->n_gpu_layers, "Layers to offload (-1 = all)");
    add_threads_option(app, args->n_threads);
    add_draft_options(app, args->draft);
    return [args] { return run_generate(*args); };
}

}  // namespace rdic::cli
