// The wire format of the remote backend (rdic/isolation/openai_backend.h) as plain data and pure
// functions: the backend URL, the retry schedule, the /v1/completions request body, the reply
// and the per-context cache salt. No I/O and no llama.cpp, so all of it is unit-tested.
//
//   rdic::BackendUrl u = rdic::parse_backend_url("http://127.0.0.1:8080/v1");
//   std::string body = rdic::completion_body(request);           // JSON text
//   rdic::CompletionReply r = rdic::parse_completion_reply(text, u.completions_url());
//
// Errors: parse_backend_url throws invalid_argument naming the URL (secrets left out) and what is
// wrong; parse_completion_reply throws upstream_failure naming the endpoint, the JSON pointer and
// the reason. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/types.h"

namespace rdic {

// An OpenAI-compatible engine's base URL: http only (rdic is built without OpenSSL; put a TLS
// proxy in front), no user info, query or fragment (an API key goes in --api-key-file).
struct BackendUrl {
    std::string host;       // "127.0.0.1", "[::1]" keeps its brackets
    int32_t port = 80;      // [1, 65535]
    std::string base_path;  // "" or "/v1" or "/proxy/v1": no trailing '/'
    // "http://host:port/base_path": what config.json records and errors name.
    std::string text() const;
    // Path of the completions endpoint: base_path + "/v1/completions", or + "/completions" when
    // base_path already ends in "/v1".
    std::string completions_path() const;
    std::string completions_url() const { return text_without_path() + completions_path(); }
    // Path of the embeddings endpoint, built as completions_path().
    std::string embeddings_path() const;
    std::string text_without_path() const;
};

// Throws invalid_argument ("FLAG URL: reason", the URL's user info never echoed; a URL with
// credentials is told to use KEY_FLAG instead).
BackendUrl parse_backend_url(const std::string& url, const std::string& flag = "--backend",
                             const std::string& key_flag = "--api-key-file");

// Retries: a request that fails with a connection error, a timeout, HTTP 408, 429 or 5xx (but
// 501) is sent again after backoff_s(attempt), up to max_attempts sends in all.
struct RetryPolicy {
    int32_t max_attempts = 5;        // [1, 100]; 1 = no retry
    double initial_backoff_s = 0.5;  // wait after the first failure
    double max_backoff_s = 8;        // cap of the doubling
};
bool is_retryable_status(int status);
// Seconds to wait after failed attempt `attempt` (1-based): initial * 2^(attempt-1), capped.
double backoff_s(const RetryPolicy& policy, int32_t attempt);

// One /v1/completions request. The prompt is either token ids (exactly the tokens the in-process
// executor feeds the model; the engine must serve the same vocabulary) or text.
struct CompletionRequest {
    std::string model;  // "model" field: the served model's name
    Tokens prompt_tokens;
    std::string prompt_text;  // used when prompt_tokens is empty
    int32_t max_tokens = 0;
    double temperature = 0;  // 0 = greedy
    int32_t top_k = 0;       // 0 = off (sent as 0; llama-server's default would be 40)
    double top_p = 1;
    double min_p = 0;  // sent as given (llama-server's default would be 0.05)
    uint32_t seed = 0;
    std::vector<std::string> stop;
    bool ignore_eos = false;
    std::string cache_salt;  // "" = not sent
    std::string grammar;     // GBNF the reply must follow (llama-server's "grammar"); "" = none
};
std::string completion_body(const CompletionRequest& request);

struct CompletionReply {
    std::string text;
    std::string finish_reason;  // "stop", "length", ...
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    // What the engine reports and only then (absent fields stay empty, never 0):
    std::optional<int64_t> cached_tokens;        // usage.prompt_tokens_details.cached_tokens
    std::optional<double> prompt_ms;             // llama-server's timings.prompt_ms
    std::optional<double> predicted_per_second;  // llama-server's timings.predicted_per_second
    bool stopped_by_string = false;              // vLLM's choices[0].stop_reason is a string
};
// `where` (the endpoint's URL) prefixes every error.
CompletionReply parse_completion_reply(const std::string& body, const std::string& where);

// One /v1/embeddings request of one text, and the vector of its reply (data[0].embedding,
// as sent: the caller normalises). parse_embedding_reply throws upstream_failure naming `where`,
// the JSON pointer and the reason, also for an empty or non-finite vector.
std::string embedding_body(const std::string& model, const std::string& text);
std::vector<float> parse_embedding_reply(const std::string& body, const std::string& where);

// The cache_salt of one context: outputs and questions of one (example, condition) that share a
// context (equal context_key) share a salt, so an engine that keys its prefix cache by salt
// (vLLM, SGLang) reuses the shared prefix among them and nowhere else. `run_nonce` separates
// runs. 32 hex digits of SHA-256.
std::string cache_salt_for(std::string_view run_nonce, std::string_view example_id,
                           std::string_view condition, std::string_view context_key);

// A short, printable excerpt of an HTTP body for error messages (at most `max_bytes`).
std::string body_excerpt(std::string_view body, size_t max_bytes = 200);

}  // namespace rdic
