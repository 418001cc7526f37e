#include "rdic/serving/topic_routing.h"

#include <algorithm>

namespace rdic {

TopicRouting::TopicRouting(std::shared_ptr<const Model> model, const TopicRoutingOptions& options)
    : model_(options.model ? options.model : std::move(model)) {
    options_.method = std::string(to_string(parse_router_method(options.method)));
    options_.threshold = options.threshold;
    options_.recency = options.recency;
    options_.n_threads = options.n_threads;
    options_.opening_probe = options.opening_probe;
    (void)resolved(options_);  // a bad threshold or recency fails here, before any request
    if (router_needs_model(options_)) shared_ = make_router_shared(model_, options_);
}

TopicRouting::~TopicRouting() = default;

int32_t TopicRouting::SessionRouter::index_of(const std::string& topic) {
    const auto it = std::find(labels.begin(), labels.end(), topic);
    if (it != labels.end()) return static_cast<int32_t>(it - labels.begin());
    labels.push_back(topic);
    return static_cast<int32_t>(labels.size()) - 1;
}

TopicRouting::SessionRouter& TopicRouting::load(const std::string& session_key,
                                                const History& history) {
    auto it = sessions_.find(session_key);
    if (it != sessions_.end()) return it->second;
    SessionRouter r{make_turn_router(options_, shared_), {}};
    for (const auto& [topic, text] : history()) r.router->commit(r.index_of(topic), text);
    return sessions_.emplace(session_key, std::move(r)).first->second;
}

TopicDecision TopicRouting::route(const std::string& session_key, const std::string& text,
                                  const History& history) {
    SessionRouter& s = load(session_key, history);
    const TopicChoice c = s.router->route(text);
    TopicDecision out;
    out.routed = true;
    out.score = c.score;
    out.opening_p = c.probe_p;
    if (c.opened) {
        int32_t n = static_cast<int32_t>(s.labels.size()) + 1;
        auto taken = [&](const std::string& name) {
            return std::find(s.labels.begin(), s.labels.end(), name) != s.labels.end();
        };
        while (taken("topic-" + std::to_string(n))) ++n;
        out.topic = "topic-" + std::to_string(n);
        out.opened = true;
    } else {
        out.topic = s.labels.at(static_cast<size_t>(c.topic));
    }
    s.router->commit(s.index_of(out.topic), text);
    return out;
}

TopicDecision TopicRouting::decide(const std::string& session_key,
                                   const std::optional<std::string>& named, const std::string& text,
                                   const History& history) {
    if (!named) return route(session_key, text, history);
    commit(session_key, *named, text);
    return TopicDecision{.topic = *named};
}

void TopicRouting::commit(const std::string& session_key, const std::string& topic,
                          const std::string& text) {
    auto it = sessions_.find(session_key);
    if (it == sessions_.end()) return;
    it->second.router->commit(it->second.index_of(topic), text);
}

void TopicRouting::forget(const std::string& session_key) {
    sessions_.erase(session_key);
}

}  // namespace rdic
