// The `openai` backend: runs a condition's plan on any OpenAI-compatible engine over HTTP
// (llama-server, vLLM, SGLang) through /v1/completions, with the prompt tokens the in-process
// executor would feed the model (the one PromptBuilder; docs/backends.md).
//
//   rdic::OpenAiBackendOptions o{.url = "http://127.0.0.1:8080", .concurrency = 4};
//   auto backend = rdic::make_openai_backend(model, exec_options, o);  // checks /v1/models
//   rdic::ConditionResult r = backend->run(example, plan);
//
// Isolation over HTTP: every output is its own request; outputs that share a context (equal
// context_key) send an identical head + context prefix and one cache_salt, so the engine's
// prefix cache can reuse it among them and nowhere else (cache_salt_for). Topic outputs run
// concurrently (at most `concurrency` requests in flight), each synthesis after the outputs it
// reads, the questions after all outputs, as in-process.
// `model` stays local: its tokenizer and chat template build the prompts, and check_limits runs
// before anything is sent. The engine must serve the same model (same vocabulary).
// Failure: a connection error, timeout, HTTP 408/429/5xx is retried with exponential backoff;
// after the last attempt, or at once for any other status or a malformed reply, run() throws
// upstream_failure naming the endpoint and what happened. Every request is bounded by
// timeout_s, so run() returns or throws within attempts x (timeout_s + backoff).
// KV: not visible remotely (ConditionResult::kv_measured = false); cached prompt tokens are
// recorded where the engine reports usage.prompt_tokens_details.cached_tokens.
// Thread-safety: one run() at a time per object; it starts and joins its own request threads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "rdic/isolation/backend.h"
#include "rdic/isolation/openai_protocol.h"

namespace rdic {

struct OpenAiBackendOptions {
    std::string url;              // the engine's base URL (parse_backend_url)
    std::string api_key;          // sent as "Authorization: Bearer ..."; "" = none
    std::string served_model;     // request's "model" field; "" = the local GGUF's file name
    int32_t concurrency = 4;      // requests in flight at most, [1, 256]
    double timeout_s = 300;       // per request: connect, send, wait for the whole reply (0, 86400]
    RetryPolicy retry;            // on connection errors, timeouts, 408, 429, 5xx
    bool send_cache_salt = true;  // "cache_salt" field (vLLM, SGLang; others ignore it)
    bool prompt_as_text = false;  // the rendered prompt text instead of token ids
    bool check_on_start = true;   // GET /v1/models (with retries) when the backend is made
};

// Throws invalid_argument for a bad option (naming it), upstream_failure when `check_on_start`
// and the engine does not answer GET .../models after the retries.
std::unique_ptr<Backend> make_openai_backend(std::shared_ptr<const Model> model,
                                             ExecutorOptions exec, OpenAiBackendOptions options);

// The API key in FILE: its content without surrounding whitespace. Throws file_not_found naming
// the file when it cannot be read, invalid_argument when it is empty or holds several lines
// (the key itself is never shown).
// `option` names the flag in errors.
std::string read_api_key_file(const std::filesystem::path& file,
                              const std::string& option = "--api-key-file");

}  // namespace rdic
