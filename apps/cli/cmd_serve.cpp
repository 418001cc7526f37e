// `rdic serve`: the OpenAI-compatible server (docs/serving.md). Parses options, builds the
// engine and the HTTP edge from the library, prints where it listens, and waits for a signal.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli_common.h"
#include "commands.h"
#include "rdic/clustering/turn_router.h"
#include "rdic/error.h"
#include "rdic/isolation/openai_backend.h"
#include "rdic/serving/engine.h"
#include "rdic/serving/http_server.h"
#include "rdic/serving/upstream.h"

namespace rdic::cli {

namespace {

struct ServeArgs {
    std::string model;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string api_key_file;
    bool allow_unauthenticated_remote = false;
    std::string state_dir = "rdic-state";
    uint64_t kv_budget_mib = 512;
    int32_t n_ctx = 16384;
    int32_t n_seq_max = 64;
    int32_t n_threads = 0;
    int32_t n_gpu_layers = -1;
    std::string router = "lexical";
    double router_threshold = 0;
    double router_recency = -1;
    std::string router_model;   // "" = the served model
    std::string opening_probe;  // "" = none
    std::string chat_template;
    std::string kv_layout = "unified";
    std::string flash_attn = "off";
    ServeLimits limits;
    DraftArgs draft;
    std::string upstream;  // "" = in-process
    std::string upstream_key_file;
    std::string upstream_model;
    int32_t upstream_concurrency = 8;
    double upstream_timeout_s = 120;
    int32_t upstream_retries = 4;
    bool no_cache_salt = false;
    std::string store;  // "" = SQLite in --state-dir
};

HttpServer* g_server = nullptr;

void on_signal(int) {
    // httplib's stop() only flips flags and shuts the listening socket down.
    if (g_server != nullptr) g_server->stop();
}

int run_serve(const ServeArgs& a) {
    HttpOptions http{.host = a.host,
                     .port = a.port,
                     .api_keys = {},
                     .allow_unauthenticated_remote = a.allow_unauthenticated_remote,
                     .limits = a.limits};
    if (!a.api_key_file.empty()) http.api_keys = read_api_key_file(a.api_key_file);
    if (http.api_keys.empty() && !is_loopback_host(a.host) && !a.allow_unauthenticated_remote) {
        throw Error(ErrorCode::invalid_argument,
                    "--host " + a.host +
                        " is not a loopback address and no --api-key-file was given: refusing to "
                        "serve without authentication (pass --allow-unauthenticated-remote)");
    }
    // The router's own model first: a bad --router-model fails before the served model loads.
    if (!a.router_model.empty() && !router_needs_model(parse_router_method(a.router))) {
        throw Error(ErrorCode::invalid_argument,
                    "--router-model: the " + a.router + " router uses no model");
    }
    // The probe file next: a bad one fails before any model loads.
    std::shared_ptr<const OpeningProbe> probe;
    if (!a.opening_probe.empty()) {
        try {
            probe = std::make_shared<const OpeningProbe>(read_opening_probe(a.opening_probe));
        } catch (const Error& e) {
            throw Error(e.code(), std::string("--opening-probe: ") + e.what());
        }
    }
    const TopicRoutingOptions routing{
        .method = a.router,
        .threshold = a.router_threshold,
        .recency = a.router_recency,
        .n_threads = a.n_threads,
        .model = a.router_model.empty() ? nullptr : [&] {
            try {
                return load_model(a.router_model, a.n_gpu_layers);
            } catch (const Error& e) {
                throw Error(e.code(), std::string("--router-model: ") + e.what());
            }
        }(),
        .opening_probe = probe};
    // Upstream: the model file gives only the tokenizer and template; no layer is offloaded.
    const auto model = load_model(a.model, a.upstream.empty() ? a.n_gpu_layers : 0);
    ServeMetrics metrics;
    auto log = [](const std::string& line) {
        std::fprintf(stderr, "rdic serve: %s\n", line.c_str());
    };
    // The seam: the HTTP edge calls a ChatService, in-process engine or upstream forwarder.
    std::unique_ptr<ChatService> service;
    std::string where;
    if (a.upstream.empty()) {
        if (!a.store.empty()) {
            throw Error(ErrorCode::invalid_argument,
                        "--store: a shared store needs --upstream (in-process serving keeps KV "
                        "files next to its SQLite store in --state-dir)");
        }
        EngineOptions eo{.state_dir = a.state_dir,
                         .n_ctx = a.n_ctx,
                         .n_seq_max = a.n_seq_max,
                         .n_threads = a.n_threads,
                         .kv_layout = parse_kv_layout(a.kv_layout).value_or(KvLayout::unified),
                         .flash_attn = parse_flash_attn(a.flash_attn),
                         .kv_budget_bytes = a.kv_budget_mib << 20,
                         .routing = routing,
                         .chat_template = a.chat_template,
                         .log = log,
                         .draft = load_draft(a.draft, *model, a.n_gpu_layers),
                         .n_draft_max = a.draft.n_max,
                         .draft_p_min = a.draft.p_min};
        service = std::make_unique<ServingEngine>(model, eo, metrics);
        where = "model " + service->model_name();
    } else {
        UpstreamOptions uo{
            .url = a.upstream,
            .api_key = a.upstream_key_file.empty()
                           ? ""
                           : read_api_key_file(std::filesystem::path(a.upstream_key_file),
                                               "--upstream-key-file"),
            .served_model = a.upstream_model,
            .concurrency = a.upstream_concurrency,
            .timeout_s = a.upstream_timeout_s,
            .retry = {.max_attempts = a.upstream_retries + 1},
            .send_cache_salt = !a.no_cache_salt,
            .check_on_start = true,
            .state_dir = a.state_dir,
            .store_url = a.store,
            .routing = routing,
            .chat_template = a.chat_template,
            .log = log};
        auto fwd = std::make_unique<UpstreamForwarder>(model, uo, metrics);
        where = "upstream " + fwd->upstream_url() + " as model " + fwd->model_name() + ", store " +
                fwd->store().describe();
        service = std::move(fwd);
    }
    HttpServer server(*service, metrics, http);
    const int port = server.bind();
    g_server = &server;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::printf("rdic serve: listening on http://%s:%d (%s, state %s, %zu API keys)\n",
                a.host.c_str(), port, where.c_str(), a.state_dir.c_str(), http.api_keys.size());
    std::fflush(stdout);
    server.listen();
    g_server = nullptr;
    std::printf("rdic serve: stopped\n");
    return 0;
}

}  // namespace

Action add_serve(CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    app.add_option("--model", a->model, "GGUF file (default: the cached default model)");
    app.add_option("--host", a->host, "Address to listen on (loopback unless API keys are set)")
        ->capture_default_str();
    app.add_option("--port", a->port, "Port (0 = any free port, printed at start)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    app.add_option("--api-key-file", a->api_key_file,
                   "File with one API key per line; clients send Authorization: Bearer KEY");
    app.add_flag("--allow-unauthenticated-remote", a->allow_unauthenticated_remote,
                 "Listen beyond loopback without API keys");
    app.add_option("--state-dir", a->state_dir, "Sessions database and KV files")
        ->capture_default_str();
    app.add_option("--kv-budget-mib", a->kv_budget_mib,
                   "KV memory kept resident; idle topics beyond it go to --state-dir")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
        ->capture_default_str();
    app.add_option("--ctx", a->n_ctx, "KV cells of the context (all sequences together)")
        ->check(CLI::Range(256, 1 << 22))
        ->capture_default_str();
    app.add_option("--max-sequences", a->n_seq_max, "Sequences resident at once")
        ->check(CLI::Range(4, kMaxSessionSequences))
        ->capture_default_str();
    app.add_option("--router", a->router,
                   "Topic router for turns without a topic: lexical (no model pass), centroid, "
                   "instruct, hybrid, llm, hybrid-llm (docs/routing.md)")
        ->check([](const std::string& v) -> std::string {
            try {
                if (parse_router_method(v) == RouterMethod::pair) {  // the one name table
                    return "the pair router holds a sequence per message of every conversation; "
                           "it is for rdic cluster, not for a server's many sessions";
                }
                return "";
            } catch (const Error& e) {
                return e.what();
            }
        })
        ->capture_default_str();
    app.add_option("--router-threshold", a->router_threshold,
                   "The router's new-topic similarity threshold (0 = the method's default)")
        ->check(CLI::Range(0.0, 2.0));
    app.add_option("--router-recency", a->router_recency,
                   "Similarity bonus of the previous turn's topic (-1 = the method's default)")
        ->check(CLI::Range(-1.0, 1.0));
    app.add_option("--router-model", a->router_model,
                   "GGUF the model-based routers embed or ask with (default: the served model; "
                   "docs/routing.md: hybrid routes better with the 1.5B)");
    app.add_option("--opening-probe", a->opening_probe,
                   "instruct/hybrid routers: an opening probe file trained on the router model's "
                   "embeddings (docs/routing.md: models/probes/)");
    add_kv_layout_option(app, a->kv_layout);
    add_draft_options(app, a->draft);
    app.add_option("--chat-template", a->chat_template, "Template overriding the GGUF's");
    app.add_option("--max-body-bytes", a->limits.max_body_bytes, "Request body limit (413)")
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
        ->capture_default_str();
    app.add_option("--max-messages", a->limits.max_messages, "Messages per request (400)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--max-tokens", a->limits.max_tokens, "Ceiling of max_tokens (400)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--max-concurrent-per-key", a->limits.max_concurrent_per_key,
                   "Requests of one API key in flight (429)")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_option("--max-queue", a->limits.max_queue, "Requests in flight, all keys (429)")
        ->check(CLI::Range(1, 1 << 16))
        ->capture_default_str();
    app.add_option("--request-timeout", a->limits.request_timeout_s,
                   "Seconds before an unfinished request is ended (504)")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_option("--upstream", a->upstream,
                   "Forward each topic's conversation to this OpenAI-compatible engine "
                   "(http://HOST:PORT[/v1]: llama-server, vLLM, SGLang) instead of running the "
                   "model in-process; --model then gives only the tokenizer and chat template "
                   "(docs/scale-out.md)");
    app.add_option("--upstream-key-file", a->upstream_key_file,
                   "File holding the upstream engine's API key (sent as a Bearer token)");
    app.add_option("--upstream-model", a->upstream_model,
                   "The \"model\" name the upstream serves (default: the GGUF file's stem)");
    app.add_option("--upstream-concurrency", a->upstream_concurrency,
                   "Requests in flight to the upstream at most")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--upstream-timeout", a->upstream_timeout_s,
                   "Seconds per upstream attempt (the request timeout caps all attempts)")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str();
    app.add_option("--upstream-retries", a->upstream_retries,
                   "Retries on connection errors, timeouts, 408, 429 and 5xx (backoff 0.5 s, "
                   "doubling, at most 8 s)")
        ->check(CLI::Range(0, 99))
        ->capture_default_str();
    app.add_option("--store", a->store,
                   "With --upstream: the session store several instances share, as a libpq URI "
                   "(postgresql://USER@HOST:PORT/DB); default: SQLite in --state-dir");
    app.add_flag("--no-cache-salt", a->no_cache_salt,
                 "Do not send the per-(key, session, topic) cache_salt upstream");
    add_flash_attn_option(app, a->flash_attn,
                          "llama.cpp flash attention: off (default: on the CPU, a new turn's "
                          "prefill after 4K tokens of history took 5x longer with it on), on, "
                          "auto");
    app.add_option("--n-gpu-layers", a->n_gpu_layers, "Layers to offload (-1 = all)");
    add_threads_option(app, a->n_threads);
    return [a] { return run_serve(*a); };
}

}  // namespace rdic::cli
