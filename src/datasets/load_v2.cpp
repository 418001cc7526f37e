// What rdic.dataset/v2 adds to v1 (docs/dataset.md): assistant turns, fact questions with
// accepted answers and lures, shared entities, long variants, and cluster names free of terms.
// The authoring-only rules of tools/check_dataset.py (turn and word counts, the share of lured
// questions, answer length) are not enforced here, as v1's authoring counts are not.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "load_internal.h"
#include "rdic/datasets/example.h"
#include "rdic/evaluation/contamination.h"
#include "rdic/evaluation/questions.h"

namespace rdic {

namespace dataset_internal {

namespace {

constexpr size_t kMaxQuestionChars = 400;
constexpr size_t kMinTopicQuestions = 3;
constexpr size_t kMinCrossQuestions = 1;
constexpr size_t kMinCrossClusters = 2;
constexpr size_t kMinEntityClusters = 2;
constexpr std::string_view kAnswerTypes[] = {"number", "date", "name", "code", "text"};
constexpr const char* kAnswerTypeMessage = R"(must be "number", "date", "name", "code" or "text")";

// Characters (code points) of valid UTF-8: the bytes that do not continue a sequence.
size_t utf8_length(std::string_view s) {
    return static_cast<size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_blank(const std::string& s) {
    return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

std::string in_quotes(const std::string& s) {
    return "\"" + s + "\"";
}

// The example read so far, with each cluster's turns joined (the text answers must occur in).
class V2Reader {
public:
    V2Reader(Example& ex, Reporter& r, const Pointers& where) : ex_(ex), r_(r), where_(where) {
        for (const Turn& t : ex_.turns) text_of_[t.cluster] += t.text + "\n";
    }

    void read_length(const json& root);
    void read_shared_entities(const json& root);
    void check_turn_roles();
    void check_cluster_names();
    void read_questions(const json& root);

private:
    // Reports `cluster` at `at` unless it names a topic cluster; true when it does.
    bool check_topic_cluster(const std::string& cluster, const std::string& at);
    // `answers` of `obj` at `base`: a non-empty array of strings that each normalise to
    // something. `usable` is false when any of that does not hold (then nothing is matched).
    std::vector<std::string> read_answers(const json& obj, const std::string& base, bool& usable);
    bool occurs_in(const std::vector<std::string>& answers, const std::string& cluster) const;
    void read_question(const json& q, const std::string& base, std::set<std::string>& ids);
    void read_topic_question(const json& q, const std::string& base, Question& question,
                             bool answers_usable);
    // One lure of `question` (at q_base) at `base`.
    Lure read_lure(const json& l, const std::string& base, const Question& question,
                   const std::string& q_base, bool own_ok, bool answers_usable);
    void read_cross_question(const json& q, const std::string& base, Question& question);

    Example& ex_;
    Reporter& r_;
    const Pointers& where_;
    std::map<std::string, std::string> text_of_;
};

void V2Reader::read_length(const json& root) {
    if (auto v = r_.string(root, "", "length", false)) {
        if (*v == "short" || *v == "long")
            ex_.length = *v;
        else
            r_.add("/length", R"(must be "short" or "long")");
    }
    if (auto v = r_.string(root, "", "variant_of", false)) {
        ex_.variant_of = *v;
        if (!is_example_id(*v)) r_.add("/variant_of", kIdMessage);
    } else if (ex_.length == "long" && !root.contains("variant_of")) {
        r_.add("/variant_of", "is missing: a long variant names its short example's id");
    }
}

void V2Reader::read_shared_entities(const json& root) {
    const json* entities = r_.array(root, "", "shared_entities", false);
    if (entities == nullptr) return;
    for (size_t k = 0; k < entities->size(); ++k) {
        const json& e = (*entities)[k];
        const std::string at = ptr("/shared_entities", k);
        if (!e.is_string()) {
            r_.add(at, "must be a string, not " + type_name(e));
            continue;
        }
        const std::string name = e.get<std::string>();
        if (name.empty()) {
            r_.add(at, "must not be empty");
            continue;
        }
        ex_.shared_entities.push_back(name);
        std::vector<std::string> holders;
        for (const Cluster& c : ex_.clusters) {
            if (c.kind == ClusterKind::topic && contains_ci(text_of_[c.id], name))
                holders.push_back(in_quotes(c.id));
        }
        if (holders.size() < kMinEntityClusters) {
            const std::string need = " (needs at least " + std::to_string(kMinEntityClusters) + ")";
            if (holders.empty()) {
                r_.add(at, "shared entity " + in_quotes(name) +
                               " occurs in no topic cluster's turns" + need);
            } else {
                std::string list;
                for (const std::string& h : holders) list += (list.empty() ? "" : ", ") + h;
                r_.add(at, "shared entity " + in_quotes(name) +
                               " occurs only in the turns of cluster " + list + need);
            }
        }
    }
}

void V2Reader::check_turn_roles() {
    for (size_t i = 0; i < ex_.turns.size(); ++i) {
        const Turn& t = ex_.turns[i];
        if (t.role != TurnRole::assistant) continue;
        const std::string& base = where_.turn.at(t.id);
        if (i == 0) {
            r_.add(base + "/role", "the first turn is the user's");
        } else if (ex_.turns[i - 1].role == TurnRole::assistant) {
            r_.add(base + "/role", "an assistant turn follows assistant turn " +
                                       std::to_string(ex_.turns[i - 1].id));
        }
        if (t.type != TurnType::context) {
            r_.add(base + "/type", R"(an assistant turn has type "context")");
        }
        if (const Cluster* c = ex_.find(t.cluster); c != nullptr && c->kind != ClusterKind::topic) {
            r_.add(base + "/cluster",
                   "an assistant turn belongs to a topic cluster, not synthesis cluster " +
                       in_quotes(c->id));
        }
    }
}

// The prompted condition lists every cluster's name: a name carrying a term would plant it in
// every output.
void V2Reader::check_cluster_names() {
    for (const Cluster& c : ex_.clusters) {
        if (c.name.empty()) continue;
        for (const Cluster& owner : ex_.clusters) {
            if (owner.kind != ClusterKind::topic) continue;
            for (const std::string& term : owner.terminology) {
                if (count_term(c.name, term) > 0) {
                    r_.add(
                        where_.cluster.at(c.id) + "/name",
                        "contains term " + in_quotes(term) + " of cluster " + in_quotes(owner.id));
                }
            }
        }
    }
}

bool V2Reader::check_topic_cluster(const std::string& cluster, const std::string& at) {
    const Cluster* c = ex_.find(cluster);
    if (c == nullptr) {
        r_.add(at, "names cluster " + in_quotes(cluster) + ", which does not exist");
        return false;
    }
    if (c->kind != ClusterKind::topic) {
        r_.add(at, "cluster " + in_quotes(cluster) + " is not a topic cluster");
        return false;
    }
    return true;
}

std::vector<std::string> V2Reader::read_answers(const json& obj, const std::string& base,
                                                bool& usable) {
    std::vector<std::string> out;
    usable = false;
    const json* answers = r_.array(obj, base, "answers", true);
    if (answers == nullptr) return out;
    const std::string at = ptr(base, "answers");
    if (answers->empty()) {
        r_.add(at, "must not be empty");
        return out;
    }
    usable = true;
    for (size_t k = 0; k < answers->size(); ++k) {
        const json& a = (*answers)[k];
        if (!a.is_string()) {
            r_.add(ptr(at, k), "must be a string, not " + type_name(a));
            usable = false;
            continue;
        }
        out.push_back(a.get<std::string>());
        if (normalise_answer(out.back()).empty()) {
            r_.add(ptr(at, k), "must contain an ASCII letter or digit");
            usable = false;
        }
    }
    return out;
}

bool V2Reader::occurs_in(const std::vector<std::string>& answers,
                         const std::string& cluster) const {
    const auto text = text_of_.find(cluster);
    if (text == text_of_.end()) return false;
    return std::any_of(answers.begin(), answers.end(),
                       [&](const std::string& a) { return answer_occurs(a, text->second); });
}

Lure V2Reader::read_lure(const json& l, const std::string& base, const Question& question,
                         const std::string& q_base, bool own_ok, bool answers_usable) {
    Lure lure;
    bool cluster_ok = false;
    if (auto v = r_.string(l, base, "cluster", true)) {
        lure.cluster = *v;
        if (own_ok && *v == question.cluster)
            r_.add(ptr(base, "cluster"), "is the question's own cluster " + in_quotes(*v));
        else
            cluster_ok = check_topic_cluster(*v, ptr(base, "cluster"));
    }
    bool lure_usable = false;
    lure.answers = read_answers(l, base, lure_usable);
    const std::string at = ptr(base, "answers");
    if (lure_usable && answers_usable) {
        // A reply that gives the accepted answer must not also count as giving the lure.
        for (size_t k = 0; k < lure.answers.size(); ++k) {
            for (const std::string& accepted : question.answers) {
                if (answer_occurs(lure.answers[k], accepted) ||
                    answer_occurs(accepted, lure.answers[k])) {
                    r_.add(ptr(at, k), "lure answer " + in_quotes(lure.answers[k]) +
                                           " matches accepted answer " + in_quotes(accepted));
                }
            }
        }
    }
    if (!cluster_ok || !own_ok) return lure;
    // The lure is the other topic's value: there, and not in the question's own topic; and the
    // accepted answers are not in the lure's topic.
    if (lure_usable) {
        if (!occurs_in(lure.answers, lure.cluster))
            r_.add(at, "no lure answer occurs in the turns of cluster " + in_quotes(lure.cluster));
        for (size_t k = 0; k < lure.answers.size(); ++k) {
            if (occurs_in({lure.answers[k]}, question.cluster)) {
                r_.add(ptr(at, k), "lure answer " + in_quotes(lure.answers[k]) +
                                       " also occurs in the turns of the question's cluster " +
                                       in_quotes(question.cluster));
            }
        }
    }
    if (answers_usable) {
        for (size_t k = 0; k < question.answers.size(); ++k) {
            if (occurs_in({question.answers[k]}, lure.cluster)) {
                r_.add(ptr(ptr(q_base, "answers"), k),
                       "accepted answer " + in_quotes(question.answers[k]) +
                           " also occurs in the turns of lure cluster " + in_quotes(lure.cluster));
            }
        }
    }
    return lure;
}

void V2Reader::read_topic_question(const json& q, const std::string& base, Question& question,
                                   bool answers_usable) {
    bool own_ok = false;
    if (auto v = r_.string(q, base, "cluster", true)) {
        question.cluster = *v;
        own_ok = check_topic_cluster(*v, ptr(base, "cluster"));
    }
    if (own_ok && answers_usable && !occurs_in(question.answers, question.cluster)) {
        r_.add(ptr(base, "answers"),
               "no accepted answer occurs in the turns of cluster " + in_quotes(question.cluster));
    }
    const json* lures = r_.array(q, base, "lures", false);
    if (lures == nullptr) return;
    each_object(*lures, ptr(base, "lures"), r_, [&](const json& l, const std::string& at) {
        question.lures.push_back(read_lure(l, at, question, base, own_ok, answers_usable));
    });
}

void V2Reader::read_cross_question(const json& q, const std::string& base, Question& question) {
    if (q.contains("lures")) r_.add(ptr(base, "lures"), "a cross question has no lures");
    const json* clusters = r_.array(q, base, "clusters", true);
    if (clusters == nullptr) return;
    const std::string at = ptr(base, "clusters");
    if (clusters->size() < kMinCrossClusters) {
        r_.add(at, "must name at least " + std::to_string(kMinCrossClusters) +
                       " topic clusters, names " + std::to_string(clusters->size()));
    }
    for (size_t k = 0; k < clusters->size(); ++k) {
        const json& c = (*clusters)[k];
        if (!c.is_string()) {
            r_.add(ptr(at, k), "must be a string, not " + type_name(c));
            continue;
        }
        const std::string id = c.get<std::string>();
        if (std::find(question.clusters.begin(), question.clusters.end(), id) !=
            question.clusters.end()) {
            r_.add(ptr(at, k), "names cluster " + in_quotes(id) + " twice");
            continue;
        }
        check_topic_cluster(id, ptr(at, k));
        question.clusters.push_back(id);
    }
}

void V2Reader::read_question(const json& q, const std::string& base, std::set<std::string>& ids) {
    Question question;
    if (auto v = r_.string(q, base, "id", true)) {
        question.id = *v;
        if (!is_example_id(*v))
            r_.add(ptr(base, "id"), kIdMessage);
        else if (!ids.insert(*v).second)
            r_.add(ptr(base, "id"), "duplicate question id " + in_quotes(*v));
    }
    if (auto v = r_.string(q, base, "text", true)) {
        question.text = *v;
        const size_t n = utf8_length(*v);
        if (is_blank(*v)) {
            r_.add(ptr(base, "text"), "must not be blank");
        } else if (n > kMaxQuestionChars) {
            r_.add(ptr(base, "text"), "has " + std::to_string(n) + " characters, more than " +
                                          std::to_string(kMaxQuestionChars));
        }
    }
    if (auto v = r_.string(q, base, "answer_type", true)) {
        question.answer_type = *v;
        if (std::find(std::begin(kAnswerTypes), std::end(kAnswerTypes), *v) ==
            std::end(kAnswerTypes)) {
            r_.add(ptr(base, "answer_type"), kAnswerTypeMessage);
        }
    }
    bool answers_usable = false;
    question.answers = read_answers(q, base, answers_usable);
    if (auto v = r_.string(q, base, "kind", true)) {
        if (*v == "topic") {
            question.kind = QuestionKind::topic;
            read_topic_question(q, base, question, answers_usable);
        } else if (*v == "cross") {
            question.kind = QuestionKind::cross;
            read_cross_question(q, base, question);
        } else {
            r_.add(ptr(base, "kind"), R"(must be "topic" or "cross")");
        }
    }
    ex_.questions.push_back(std::move(question));
}

void V2Reader::read_questions(const json& root) {
    const json* questions = r_.array(root, "", "questions", true);
    if (questions == nullptr) return;
    if (questions->empty()) {
        r_.add("/questions", "must not be empty");
        return;
    }
    std::set<std::string> ids;
    each_object(*questions, "/questions", r_,
                [&](const json& q, const std::string& at) { read_question(q, at, ids); });
    // Counted over the questions whose kind and cluster are valid.
    std::map<std::string, size_t> n_topic;
    size_t n_cross = 0;
    for (const Question& q : ex_.questions) {
        if (q.kind == QuestionKind::cross) ++n_cross;
        if (q.kind == QuestionKind::topic) ++n_topic[q.cluster];
    }
    for (const Cluster& c : ex_.clusters) {
        if (c.kind != ClusterKind::topic || n_topic[c.id] >= kMinTopicQuestions) continue;
        r_.add("/questions",
               "cluster " + in_quotes(c.id) + " has " + std::to_string(n_topic[c.id]) +
                   " topic questions, needs at least " + std::to_string(kMinTopicQuestions));
    }
    if (n_cross < kMinCrossQuestions) {
        r_.add("/questions",
               "needs at least " + std::to_string(kMinCrossQuestions) + " cross question");
    }
}

}  // namespace

void read_turn_role(const json& t, const std::string& base, const std::string& format, Reporter& r,
                    Turn& turn) {
    const auto v = r.string(t, base, "role", false);
    if (!v || *v == "user") return;
    if (format == kFormatV2 && *v == "assistant")
        turn.role = TurnRole::assistant;
    else if (format == kFormatV2)
        r.add(ptr(base, "role"), R"(must be "user" or "assistant")");
    else
        r.add(ptr(base, "role"), R"(must be "user" (assistant turns need rdic.dataset/v2))");
}

void read_v2(const json& root, Example& ex, Reporter& r, const Pointers& where) {
    V2Reader reader(ex, r, where);
    reader.read_length(root);
    reader.check_cluster_names();
    reader.read_shared_entities(root);
    reader.check_turn_roles();
    reader.read_questions(root);
}

}  // namespace dataset_internal

std::string_view to_string(TurnRole r) {
    switch (r) {
        case TurnRole::user:
            return "user";
        case TurnRole::assistant:
            return "assistant";
    }
    return "?";
}

std::string_view to_string(QuestionKind k) {
    switch (k) {
        case QuestionKind::topic:
            return "topic";
        case QuestionKind::cross:
            return "cross";
    }
    return "?";
}

}  // namespace rdic
