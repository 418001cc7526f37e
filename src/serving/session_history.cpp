#include "rdic/serving/session_history.h"

#include <algorithm>

#include "rdic/isolation/plan.h"
#include "rdic/serving/api.h"

namespace rdic {

std::vector<std::pair<std::string, std::string>> routing_history(const SessionStore& store,
                                                                 const std::string& key,
                                                                 const std::string& sid) {
    std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> turns;
    for (const TopicRecord& t : store.topics(key, sid)) {
        if (t.topic == kSynthesisTopic) continue;
        for (const TurnRecord& turn : store.turns(key, sid, t.topic)) {
            if (turn.role == "user") turns.push_back({turn.created_ms, {t.topic, turn.content}});
        }
    }
    std::stable_sort(turns.begin(), turns.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::string, std::string>> h;
    h.reserve(turns.size());
    for (auto& [ms, turn] : turns) h.push_back(std::move(turn));
    return h;
}

std::vector<ChatMessage> topic_messages(const SessionStore& store, const std::string& key,
                                        const std::string& sid, const std::string& topic,
                                        const std::string& system, const std::string& user_text,
                                        size_t* n_stored) {
    std::vector<ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    const std::vector<TurnRecord> turns = store.turns(key, sid, topic);
    for (const TurnRecord& tr : turns) msgs.push_back({tr.role, tr.content});
    msgs.push_back({"user", user_text});
    if (n_stored != nullptr) *n_stored = turns.size();
    return msgs;
}

Tokens synthesis_prompt(const PromptBuilder& pb, const SessionStore& store, const std::string& key,
                        const std::string& sid, const std::string& user_text) {
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::string>> outputs;
    for (const TopicRecord& t : store.topics(key, sid)) {
        if (t.topic == kSynthesisTopic) continue;
        const std::vector<TurnRecord> turns = store.turns(key, sid, t.topic);
        for (auto it = turns.rbegin(); it != turns.rend(); ++it) {
            if (it->role != "assistant") continue;
            ids.push_back(t.topic);
            outputs.emplace_back(t.topic, it->content);
            break;
        }
    }
    if (outputs.empty()) {
        throw bad_request("synthesis",
                          "session \"" + sid + "\" has no topic with an answer to synthesise from");
    }
    Tokens prompt = pb.head();
    const Tokens rest = pb.request(render_messages(Example{}, ids, outputs), user_text);
    prompt.insert(prompt.end(), rest.begin(), rest.end());
    return prompt;
}

}  // namespace rdic
