// ServingEngine: the server's core. ONE engine thread owns the llama context and a Generator;
// chat requests of every session join and leave its lockstep batch between steps (continuous
// batching). HTTP threads only submit jobs and read their text.
//
//   rdic::ServingEngine engine(model, {.state_dir = "state"}, metrics);
//   auto job = admission.admit(parse_chat_request(body, session_header, limits), key_hash);
//   engine.submit(job);                                 // admission.h counts it in and out
//   std::string text; bool done = false;
//   while (!done) job->wait(&text, &done, deadline);   // streamed text as it becomes final
//   const rdic::ChatResult& r = job->result();          // throws the ApiError when it failed
//
// State. Each (key, session, topic) keeps one KV sequence holding the topic's conversation (the
// system prompt, its user turns and the assistant's answers); a new turn prefills only the tokens
// past the longest common prefix with what the sequence holds (reported as cached tokens). A
// shared system prompt is prefilled once and forked. Stateless requests (no session) are matched
// by prefix against recent stateless sequences of the same key. A synthesis request is answered
// from a fresh sequence that receives each topic's latest answer as messages.
// Durability: before a turn is acknowledged its sequence file (sequence_file.h) is written and the
// exchange committed to the SessionStore, on a writer thread (the engine thread keeps decoding the
// other sessions; the response waits for the write).
// After a restart a topic comes back from its file (model sha256 checked) or, when the file is
// missing or unusable, by prefilling its stored turns.
// Memory: above kv_budget_bytes idle sequences are evicted least-recently-used (their files are
// already current), and restored on next use.
// Thread-safety: submit/delete_session/store may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "rdic/engine/model.h"
#include "rdic/engine/session.h"
#include "rdic/serving/api.h"
#include "rdic/serving/chat_job.h"
#include "rdic/serving/chat_service.h"
#include "rdic/serving/metrics.h"
#include "rdic/serving/store.h"
#include "rdic/serving/topic_routing.h"

namespace rdic {

struct EngineOptions {
    std::filesystem::path state_dir;         // sessions.sqlite3 and kv/ live here (created)
    int32_t n_ctx = 16384;                   // KV cells of the one context (all sequences together)
    int32_t n_seq_max = 64;                  // sequences resident at once
    int32_t n_threads = 0;                   // CPU threads; 0 = all
    KvLayout kv_layout = KvLayout::unified;  // session.h: per_sequence = one stream each
    FlashAttn flash_attn = FlashAttn::automatic;  // llama.cpp's flash attention (context-wide)
    uint64_t kv_budget_bytes = 512ull << 20;      // idle sequences are evicted above this
    int32_t max_stateless = 8;                    // stateless sequences kept for prefix matching
    TopicRoutingOptions routing;  // the router of turns without a topic (topic_routing.h)
    std::string chat_template;    // "" = the GGUF's
    std::function<void(const std::string&)> log;  // one line per notable event; may be empty
    // Speculative decoding (--draft): a draft model with the model's vocabulary; its Session
    // has n_ctx cells and n_seq_max slots too (unified), holding each active request's history.
    std::shared_ptr<const Model> draft;
    int32_t n_draft_max = 8;
    float draft_p_min = 0.0f;
};

class ServingEngine final : public ChatService {
public:
    // Opens the store, hashes the model file, starts the engine thread.
    ServingEngine(std::shared_ptr<const Model> model, EngineOptions options, ServeMetrics& metrics);
    ~ServingEngine() override;  // stops the engine thread; jobs in flight fail with 503
    ServingEngine(const ServingEngine&) = delete;
    ServingEngine& operator=(const ServingEngine&) = delete;

    // Queues an admitted job for the engine thread. Throws ApiError(503) once stopping.
    void submit(std::shared_ptr<ChatJob> job) override;
    // Erases a session from memory, the store and disk (on the engine thread; waits). False when
    // the key has no such session; throws ApiError(409) while it has a request in flight.
    bool delete_session(const std::string& key, const std::string& session_id) override;

    const SessionStore& store() const override { return *store_; }
    const std::string& model_name() const override { return model_name_; }
    const std::string& model_sha256() const override { return model_sha256_; }

private:
    struct State;  // everything only the engine thread touches
    void run();

    std::shared_ptr<const Model> model_;
    EngineOptions options_;
    ServeMetrics& metrics_;
    std::string model_name_;
    std::string model_sha256_;
    std::unique_ptr<SessionStore> store_;

    std::mutex mutex_;  // guards the fields below
    std::condition_variable cv_;
    std::deque<std::shared_ptr<ChatJob>> incoming_;
    std::deque<std::function<void(State&)>> commands_;
    bool stop_ = false;

    std::unique_ptr<State> state_;
    std::thread thread_;
};

}  // namespace rdic
