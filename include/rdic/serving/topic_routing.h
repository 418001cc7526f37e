// TopicRouting: which topic of a session a new user turn belongs to, when the request names none.
// The one seam between the server and the routers of rdic/clustering/turn_router.h: one
// TurnRouter per session, topics named "topic-N" when the router opens them. The default method
// is `lexical` (incremental TF-IDF with topic-shift cues, no model pass: on the test split, turns
// one by one, ARI 0.622 against 0.101 for the embedding centroid router; docs/routing.md).
//
//   rdic::TopicRouting routing(model, {.method = "lexical"});
//   auto d = routing.route("key/s1", "How long to boil an egg?", load_history);
//   // d.topic == "topic-1", d.opened == true on a session's first turn
//
// A session's router is built lazily by replaying its stored user turns (so it survives
// restarts) and kept in memory; forget() drops it (session deleted). Thread-safety: one thread
// (the engine's).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rdic/clustering/turn_router.h"
#include "rdic/engine/model.h"
#include "rdic/serving/api.h"

namespace rdic {

struct TopicRoutingOptions {
    std::string method = "lexical";  // a TurnRouter method (turn_router.h)
    double threshold = 0;            // the method's new-topic threshold; 0 = its default
    double recency = -1;             // bonus of the previous turn's topic; -1 = the default
    int32_t n_threads = 0;           // model-based methods: CPU threads of their contexts
    // The model a model-based router embeds or asks with; null = the model passed to the
    // constructor (the served one). A larger instruct model routes better than the default
    // 0.5B (docs/routing.md: hybrid with the 1.5B's embeddings).
    std::shared_ptr<const Model> model{};
    // instruct/hybrid/hybrid-llm: an opening probe trained on that model's embeddings (it opens
    // a topic like a cue; TurnRouterOptions::opening_probe). Null = none.
    std::shared_ptr<const OpeningProbe> opening_probe{};
};

class TopicRouting {
public:
    // (topic, user text) of a session's stored turns, in order.
    using History = std::function<std::vector<std::pair<std::string, std::string>>()>;

    // `model` routes unless options.model names another. Throws invalid_argument for an unknown
    // method or a bad option (before any request).
    TopicRouting(std::shared_ptr<const Model> model, const TopicRoutingOptions& options);
    ~TopicRouting();

    // Routes `text` within `session_key` and records it in the chosen topic.
    TopicDecision route(const std::string& session_key, const std::string& text,
                        const History& history);
    // A request's topic: the one it names (recorded with commit(), routed == false) or route().
    TopicDecision decide(const std::string& session_key, const std::optional<std::string>& named,
                         const std::string& text, const History& history);
    // Records a turn whose topic the client chose, if the session's router is loaded.
    void commit(const std::string& session_key, const std::string& topic, const std::string& text);
    void forget(const std::string& session_key);

private:
    struct SessionRouter {
        std::unique_ptr<TurnRouter> router;
        std::vector<std::string> labels;  // router topic index -> topic name
        int32_t index_of(const std::string& topic);
    };
    SessionRouter& load(const std::string& session_key, const History& history);

    std::shared_ptr<const Model> model_;
    TurnRouterOptions options_;
    std::shared_ptr<RouterShared> shared_;  // null for methods without a model
    std::map<std::string, SessionRouter> sessions_;
};

}  // namespace rdic
