// TopicRouting: which topic of a session a new user turn belongs to, when the request names none.
// The one seam between the server and the router: today rdic::OnlineRouter over Session::embed
// (mean-pooled hidden states of the serving model); the routing work of issue #12
// (rdic/clustering/turn_router.h) replaces the body of this class, not its callers.
//
//   rdic::TopicRouting routing(model, {.n_threads = 2});
//   auto d = routing.route("key/s1", "How long to boil an egg?", load_history);
//   // d.topic == "topic-1", d.opened == true on a session's first turn
//
// A session's router is built lazily from its stored user turns (so it survives restarts) and
// kept in memory; forget() drops it (session deleted). Thread-safety: one thread (the engine's).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rdic/clustering/router.h"
#include "rdic/engine/model.h"
#include "rdic/engine/session.h"

namespace rdic {

struct TopicRoutingOptions {
    double new_topic_distance = 0.25;  // cosine distance past which a new topic opens
    int32_t n_threads = 0;
    int32_t max_embed_tokens = 256;  // a turn's first tokens are embedded
};

struct TopicDecision {
    std::string topic;
    bool opened = false;
    double distance = 0;  // to the chosen topic's centroid (0 when it opened)
};

class TopicRouting {
public:
    // (topic, user text) of a session's stored turns, in order.
    using History = std::function<std::vector<std::pair<std::string, std::string>>()>;

    TopicRouting(std::shared_ptr<const Model> model, const TopicRoutingOptions& options);
    ~TopicRouting();

    // Routes `text` within `session_key` and records it in the chosen topic.
    TopicDecision route(const std::string& session_key, const std::string& text,
                        const History& history);
    // Records a turn whose topic the client chose, if the session's router is loaded.
    void commit(const std::string& session_key, const std::string& topic, const std::string& text);
    void forget(const std::string& session_key);

private:
    struct SessionRouter {
        OnlineRouter router;
        std::vector<std::string> labels;  // cluster index -> topic name
        int32_t index_of(const std::string& topic);
    };
    std::vector<float> embed(const std::string& text);
    SessionRouter& load(const std::string& session_key, const History& history);

    std::shared_ptr<const Model> model_;
    TopicRoutingOptions options_;
    std::unique_ptr<Session> embed_session_;
    std::map<std::string, SessionRouter> sessions_;
};

}  // namespace rdic
