#include "rdic/serving/topic_routing.h"

#include <algorithm>

namespace rdic {

TopicRouting::TopicRouting(std::shared_ptr<const Model> model, const TopicRoutingOptions& options)
    : model_(std::move(model)), options_(options) {}

TopicRouting::~TopicRouting() = default;

int32_t TopicRouting::SessionRouter::index_of(const std::string& topic) {
    const auto it = std::find(labels.begin(), labels.end(), topic);
    if (it != labels.end()) return static_cast<int32_t>(it - labels.begin());
    labels.push_back(topic);
    return static_cast<int32_t>(labels.size()) - 1;
}

std::vector<float> TopicRouting::embed(const std::string& text) {
    const int32_t n = options_.max_embed_tokens;
    if (!embed_session_) {
        embed_session_ =
            std::make_unique<Session>(model_, SessionOptions{.n_ctx = std::max(1024, 2 * n),
                                                             .n_seq_max = 1,
                                                             .n_batch = n,
                                                             .n_ubatch = n,
                                                             .n_threads = options_.n_threads,
                                                             .embeddings = true});
    }
    Tokens toks = model_->tokenize(text, true, /*parse_special=*/false);
    if (toks.empty()) toks.push_back(model_->bos());
    if (static_cast<int32_t>(toks.size()) > n) toks.resize(static_cast<size_t>(n));
    return embed_session_->embed(toks);
}

TopicRouting::SessionRouter& TopicRouting::load(const std::string& session_key,
                                                const History& history) {
    auto it = sessions_.find(session_key);
    if (it != sessions_.end()) return it->second;
    SessionRouter r{
        OnlineRouter(model_->info().n_embd, {.new_cluster_distance = options_.new_topic_distance}),
        {}};
    for (const auto& [topic, text] : history()) r.router.assign(r.index_of(topic), embed(text));
    return sessions_.emplace(session_key, std::move(r)).first->second;
}

TopicDecision TopicRouting::route(const std::string& session_key, const std::string& text,
                                  const History& history) {
    SessionRouter& s = load(session_key, history);
    const std::vector<float> v = embed(text);
    const RouteDecision d = s.router.route(v);
    TopicDecision out;
    if (d.opened) {
        int32_t n = static_cast<int32_t>(s.labels.size()) + 1;
        auto taken = [&](const std::string& name) {
            return std::find(s.labels.begin(), s.labels.end(), name) != s.labels.end();
        };
        while (taken("topic-" + std::to_string(n))) ++n;
        out.topic = "topic-" + std::to_string(n);
        out.opened = true;
    } else {
        out.topic = s.labels.at(static_cast<size_t>(d.cluster));
        out.distance = d.distance;
    }
    s.router.assign(s.index_of(out.topic), v);
    return out;
}

void TopicRouting::commit(const std::string& session_key, const std::string& topic,
                          const std::string& text) {
    auto it = sessions_.find(session_key);
    if (it == sessions_.end()) return;
    it->second.router.assign(it->second.index_of(topic), embed(text));
}

void TopicRouting::forget(const std::string& session_key) {
    sessions_.erase(session_key);
}

}  // namespace rdic
