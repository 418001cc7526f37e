// The server's API in native types: a chat-completion request parsed and checked from its JSON
// body, the result the engine hands back, and the JSON the HTTP front writes (OpenAI's shapes).
// nlohmann::json stops here: the engine never sees JSON.
//
//   rdic::ServeLimits limits;
//   rdic::ChatRequest req = rdic::parse_chat_request(body, header_session_id, limits);
//   ...  // throws rdic::ApiError{400, "invalid_request_error", "messages[2].role", "..."}
//   std::string out = rdic::completion_json(req, result, "chatcmpl-1", created_s, model_name);
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/sampler.h"

namespace rdic {

// Limits the server checks before any work (docs/serving.md).
struct ServeLimits {
    size_t max_body_bytes = 1 << 20;     // request body (413 above)
    int32_t max_messages = 256;          // messages in one request
    size_t max_message_bytes = 64000;    // bytes of one message's content
    int32_t max_tokens = 2048;           // max_tokens / max_completion_tokens ceiling
    int32_t max_stop_strings = 4;        // as OpenAI's API
    int32_t max_concurrent_per_key = 8;  // requests of one key in flight (429 above)
    int32_t max_queue = 64;              // requests in flight, all keys (429 above)
    int32_t request_timeout_s = 300;     // a request still unfinished is ended (504)
};

// An error the client caused or must see: HTTP status + OpenAI's error object.
class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string type, std::string param, const std::string& message,
             std::string code = "")
        : std::runtime_error(message),
          status_(status),
          type_(std::move(type)),
          param_(std::move(param)),
          code_(std::move(code)) {}
    int status() const { return status_; }
    const std::string& type() const { return type_; }    // e.g. "invalid_request_error"
    const std::string& param() const { return param_; }  // the field, "" when none
    const std::string& code() const { return code_; }    // e.g. "rate_limit_exceeded"

private:
    int status_;
    std::string type_, param_, code_;
};

// Shorthand for a 400 naming `param`.
ApiError bad_request(const std::string& param, const std::string& message);

struct ChatRequest {
    std::string model;
    std::vector<ChatMessage> messages;  // roles system|user|assistant; the last is the user's
    int32_t max_tokens = 256;
    SamplerOptions sampling;
    std::vector<std::string> stop;
    bool stream = false;
    bool stream_usage = false;              // stream_options.include_usage
    std::optional<std::string> session_id;  // X-Session-ID header or "session_id"
    std::optional<std::string> topic;       // "topic" or "rdic": {"topic": ...}
    bool synthesis = false;                 // "synthesis" or "rdic": {"synthesis": true}

    // The system message (first message when its role is system), or "".
    std::string system_prompt() const;
    // The last message's content (the new user turn).
    const std::string& user_text() const { return messages.back().content; }
};

// Parses and checks a /v1/chat/completions body. `header_session_id` is the X-Session-ID header
// ("" when absent; the body's session_id must agree with it when both are given). Throws
// ApiError(400) naming the field (e.g. "messages[1].content") and what is wrong.
ChatRequest parse_chat_request(std::string_view body, std::string_view header_session_id,
                               const ServeLimits& limits);

// Session ids and topic names: 1-128 characters of [A-Za-z0-9._:@-].
bool is_valid_name(std::string_view name);

// Where a topic sequence's KV came from for this request.
// upstream: the answer came from an upstream engine (rdic serve --upstream), which holds the KV.
enum class KvSource { none, resident, file, reprefill, prefix, upstream };
// "none", "resident", "file", "reprefill", "prefix", "upstream"
std::string_view to_string(KvSource s);

// How a session request's topic was chosen (TopicRouting, docs/routing.md).
struct TopicDecision {
    std::string topic;
    bool opened = false;    // the router opened it as a new topic
    bool routed = false;    // the router chose it; false when the request named its topic
    double score = 0;       // the router's similarity (or probability) for its choice
    double opening_p = -1;  // the opening probe's p that the message opens a topic; -1: not asked
};

struct ChatResult {
    std::string text;
    std::string finish_reason;  // "stop" or "length"
    int32_t prompt_tokens = 0;
    int32_t cached_tokens = 0;  // of prompt_tokens, found in the KV cache (not prefilled)
    int32_t completion_tokens = 0;
    std::string session_id;   // "" when stateless
    bool first_turn = false;  // this turn is its topic's first (opened by the router or named)
    TopicDecision routing;    // the topic and how it was chosen; empty: stateless or synthesis
    KvSource kv_source = KvSource::none;
    double ttft_ms = 0;
};

std::string error_json(const ApiError& e);
std::string usage_json_text(const ChatResult& r);
// The non-streaming response body.
std::string completion_json(const ChatResult& r, const std::string& id, int64_t created_s,
                            const std::string& model);
// One SSE "data:" payload: a content delta (role on the first), the final chunk with
// finish_reason, or the usage chunk (empty choices).
std::string chunk_json(const std::string& id, int64_t created_s, const std::string& model,
                       std::string_view delta, bool first);
std::string final_chunk_json(const ChatResult& r, const std::string& id, int64_t created_s,
                             const std::string& model);
std::string usage_chunk_json(const ChatResult& r, const std::string& id, int64_t created_s,
                             const std::string& model);

}  // namespace rdic
