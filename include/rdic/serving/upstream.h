// UpstreamForwarder: the ChatService of `rdic serve --upstream URL`. rdic keeps what it keeps
// in-process (sessions, routing, per-topic histories in the SessionStore, synthesis) and sends
// each request's conversation to an OpenAI-compatible engine (llama-server, vLLM, SGLang) through
// /v1/completions, as the prompt tokens the in-process engine would decode (the same
// conversation_tokens / PromptBuilder), so a topic's next turn extends its last prompt and the
// engine's prefix cache can reuse it. No KV is held here.
//
//   rdic::UpstreamForwarder fwd(model, {.url = "http://127.0.0.1:8081", .state_dir = "st"}, m);
//   rdic::HttpServer http(fwd, m, {...});
//
// Isolation: every request carries cache_salt = serve_cache_salt(key hash, session, topic), so
// an engine that keys its prefix cache by salt (vLLM, SGLang) shares cached prefixes only within
// one (API key, session, topic); the system prompt is the identical head of each topic's prompt.
// Ordering: one request per (key, session, topic) at a time, the others wait (as in-process).
// Streaming is emulated: the upstream request is not streamed; the whole answer arrives as one
// delta when the engine has answered.
// Failure: connection errors, timeouts, 408/429/5xx are retried with backoff (OpenAiClient) within
// the request's deadline (the job's, from admission.h); then the request fails with 502 (the
// engine failed or is unreachable) or 504 (the deadline passed); an engine's 400 is the client's
// 400. A turn is stored only after the engine answered it, and a routed turn that failed leaves
// no trace in the router (it is rebuilt from the stored turns).
// `model` is used locally for its tokenizer, chat template and model-based routers only; the
// engine must serve the same model (vocabulary).
// Several instances: with a shared store (store_url) any instance can serve any session: the
// histories are read from the store per request, and a session's router is rebuilt when the
// store holds turns this instance did not route. Turns of one topic are ordered per instance, so
// a balancer should keep a session on one instance (affinity) while it is up.
// Thread-safety: submit/delete_session/store from any thread; `concurrency` worker threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/model.h"
#include "rdic/isolation/openai_protocol.h"
#include "rdic/isolation/prompt.h"
#include "rdic/serving/chat_job.h"
#include "rdic/serving/chat_service.h"
#include "rdic/serving/metrics.h"
#include "rdic/serving/topic_routing.h"

namespace rdic {

struct UpstreamOptions {
    std::string url;                  // the engine's base URL (parse_backend_url)
    std::string api_key;              // the engine's key, sent as a Bearer token; "" = none
    std::string served_model;         // the "model" field sent; "" = the GGUF file's stem
    int32_t concurrency = 8;          // requests in flight to the engine at most, [1, 256]
    double timeout_s = 120;           // per attempt, (0, 86400]; the request deadline caps it too
    RetryPolicy retry;                // on connection errors, timeouts, 408, 429, 5xx
    bool send_cache_salt = true;      // "cache_salt" field (vLLM, SGLang; llama-server ignores it)
    bool check_on_start = true;       // GET .../models (with the retries) before serving
    std::filesystem::path state_dir;  // sessions.sqlite3 lives here (created) unless store_url
    std::string store_url;            // "" = SQLite; "postgresql://..." = shared (pg_store.h)
    TopicRoutingOptions routing;      // the router of turns without a topic (topic_routing.h)
    std::string chat_template;        // "" = the GGUF's
    std::function<void(const std::string&)> log;  // may be empty
};

// The cache_salt of one (API key hash, session, topic): 32 hex digits of SHA-256 over the three
// (length-prefixed), never the key itself. Stateless requests use ("", "") for session and topic.
std::string serve_cache_salt(const std::string& key_hash, const std::string& session_id,
                             const std::string& topic);

class UpstreamForwarder final : public ChatService {
public:
    // Opens the store, checks the engine (check_on_start), starts the workers. Throws
    // invalid_argument for a bad option, upstream_failure when the engine does not answer.
    UpstreamForwarder(std::shared_ptr<const Model> model, UpstreamOptions options,
                      ServeMetrics& metrics);
    ~UpstreamForwarder() override;  // waits for the requests in flight (each bounded)
    UpstreamForwarder(const UpstreamForwarder&) = delete;
    UpstreamForwarder& operator=(const UpstreamForwarder&) = delete;

    void submit(std::shared_ptr<ChatJob> job) override;
    bool delete_session(const std::string& key, const std::string& session_id) override;
    const SessionStore& store() const override { return *store_; }
    const std::string& model_name() const override { return model_name_; }
    const std::string& model_sha256() const override { return model_sha256_; }
    const std::string& upstream_url() const { return url_text_; }

private:
    void work();
    void serve(const std::shared_ptr<ChatJob>& job, class OpenAiClient& client);

    std::shared_ptr<const Model> model_;
    UpstreamOptions options_;
    ServeMetrics& metrics_;
    BackendUrl url_;
    std::string url_text_;
    std::string model_name_;
    std::string model_sha256_;  // "" (the engine's file is not visible here)
    std::unique_ptr<SessionStore> store_;
    ChatFormatter chat_;

    std::mutex mutex_;  // guards everything below
    std::condition_variable cv_;
    std::deque<std::shared_ptr<ChatJob>> queue_;
    std::set<std::string> busy_topics_;  // (key, session, topic) with a request at the engine
    std::map<std::string, std::deque<std::shared_ptr<ChatJob>>> waiting_;  // behind a busy topic
    std::map<std::string, std::unique_ptr<PromptBuilder>> builders_;       // by system prompt
    // Stored turns of each session whose router is loaded, as this instance last saw them: a
    // different count in the store means another instance served the session (shared store),
    // and the router is rebuilt from the store before routing.
    std::map<std::string, int32_t> router_turns_;
    TopicRouting routing_;
    bool stop_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace rdic
