// The engine thread's state (private to src/serving): the Session, the Generator, the topic
// sequences, the shared system-prompt prefixes and the stateless cache.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/engine/session.h"
#include "rdic/isolation/prompt.h"
#include "rdic/serving/engine.h"
#include "rdic/serving/topic_routing.h"
#include "turn_writer.h"

namespace rdic {

struct ServingEngine::State {
    State(std::shared_ptr<const Model> model, const EngineOptions& options, ServeMetrics& metrics,
          SessionStore& store, std::string model_sha256);
    ~State();

    // Starts a job (or parks it behind its topic's running request); failures end the job.
    void start(const std::shared_ptr<ChatJob>& job);
    // Ends requests past their deadline or whose client went away; one generator step; finishes.
    void step();
    bool has_work() const { return !active_.empty(); }
    void fail_all(const ApiError& error);
    bool delete_session(const std::string& key, const std::string& session_id);
    // Runs every durable write already handed to the writer thread (their jobs finish), then
    // stops it. Called once the engine thread has stopped.
    void drain_writes() { writer_.reset(); }

    std::deque<std::shared_ptr<ChatJob>> ready;  // unparked jobs to start next
    // Queues a command for the engine thread (the writer thread reports a written turn so).
    std::function<void(std::function<void(State&)>)> post;

private:
    struct Topic {
        Sequence seq;  // invalid when evicted / never loaded
        // The conversation's tokens as conversation_tokens renders them, ending with the last
        // acknowledged reply (empty: not known, render the stored turns); with its system prompt.
        Tokens conv;
        std::string conv_system;
        bool busy = false;  // a request is generating, or its turn is being written
        uint64_t last_used = 0;
        std::deque<std::shared_ptr<ChatJob>> waiting;
    };
    struct Prefix {
        Sequence seq;
        uint64_t last_used = 0;
    };
    struct Stateless {
        std::string key;
        Sequence seq;
        uint64_t last_used = 0;
    };
    struct Active {
        std::shared_ptr<ChatJob> job;
        Sequence own;           // stateless and synthesis requests own their sequence
        std::string topic_key;  // "" when not a topic's request
        std::string topic;
        bool opened = false;  // the topic's first turn
        int32_t n_prompt = 0, n_cached = 0;
        KvSource source = KvSource::none;
        Tokens prompt;  // a topic request's whole prompt (the next conv, with the reply)
        std::chrono::steady_clock::time_point added;
    };

    void start_topic(const std::shared_ptr<ChatJob>& job);
    void start_stateless(const std::shared_ptr<ChatJob>& job);
    void start_synthesis(const std::shared_ptr<ChatJob>& job);
    // Makes `seq` hold the longest usable prefix of `prompt` and queues the rest with the job.
    void launch(std::unique_ptr<Active> a, Sequence* seq, const Tokens& prompt);
    void finish(Active& a, GenerationResult& r);
    void end(const std::shared_ptr<ChatJob>& job, const ApiError& error);
    // Hands the turn to the writer thread, which writes the topic's sequence file, commits the
    // exchange, then finishes the job; the topic stays busy until turn_written.
    void persist(Active& a, Topic* t, const GenerationResult& r, ChatResult res);
    void turn_written(const std::string& topic_key, bool ok, Tokens conv, std::string system);
    void unpark(Topic& t);

    // A fork of the shared system-prompt prefix holding the longest common prefix with `prompt`.
    Sequence fork_prefix(const std::string& system, const Tokens& prompt);
    PromptBuilder& builder(const std::string& system);
    // Evicts idle sequences until `n_cells` more cells and one more sequence fit; then the budget.
    void make_room(int64_t n_cells);
    void enforce_budget();
    bool evict_one();
    void update_gauges();
    std::filesystem::path kv_path(const std::string& topic_key) const;
    void log(const std::string& line) const;
    GenerateOptions generator_options();

    std::shared_ptr<const Model> model_;
    EngineOptions options_;
    ServeMetrics& metrics_;
    SessionStore& store_;
    std::string model_sha256_;
    Session session_;
    std::optional<Session> draft_session_;  // with EngineOptions::draft
    ChatFormatter chat_;
    TopicRouting routing_;
    std::unique_ptr<Generator> gen_;
    std::map<std::string, Topic> topics_;  // by topic key (key, session, topic)
    std::map<std::string, Prefix> prefixes_;
    std::map<std::string, std::unique_ptr<PromptBuilder>> builders_;
    std::vector<Stateless> stateless_;
    std::map<Generator::Id, std::unique_ptr<Active>> active_;
    uint64_t tick_ = 0;
    std::unique_ptr<TurnWriter> writer_ = std::make_unique<TurnWriter>();
};

}  // namespace rdic
