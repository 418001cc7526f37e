#include "rdic/clustering/methods.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "rdic/clustering/agglomerative.h"
#include "rdic/clustering/assignment.h"
#include "rdic/clustering/lexical.h"
#include "rdic/clustering/metrics.h"
#include "rdic/engine/chat.h"
#include "rdic/engine/generate.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// In ClusterMethod's order.
constexpr const char* kMethodNames[] = {"labels", "embedding",  "online", "llm",
                                        "random", "positional", "lexical"};
constexpr size_t kMaxLlmTurnChars = 600;  // longer turns are shortened in the llm prompt
constexpr int32_t kMaxLetters = 26;

// The first `n` bytes of `s`, cut back to a UTF-8 character boundary.
std::string utf8_prefix(const std::string& s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n) + " ...";
}

}  // namespace

std::string_view to_string(ClusterMethod m) {
    return kMethodNames[static_cast<int>(m)];
}

ClusterMethod parse_cluster_method(std::string_view name) {
    for (size_t i = 0; i < std::size(kMethodNames); ++i) {
        if (name == kMethodNames[i]) return static_cast<ClusterMethod>(i);
    }
    throw Error(ErrorCode::invalid_argument,
                "unknown clustering method '" + std::string(name) +
                    "' (valid: labels, embedding, lexical, online, llm, random, positional)");
}

bool needs_model(ClusterMethod m) {
    return m == ClusterMethod::embedding || m == ClusterMethod::online || m == ClusterMethod::llm;
}

bool detects_synthesis(ClusterMethod m) {
    return needs_model(m) || m == ClusterMethod::lexical;
}

TurnClusterer::TurnClusterer(std::shared_ptr<const Model> model, const ClusterOptions& options)
    : model_(std::move(model)), options_(options) {
    const bool model_free_router =
        options.method == ClusterMethod::online && !router_needs_model(options.routing);
    if (needs_model(options.method) && !model_free_router && !model_) {
        throw Error(ErrorCode::invalid_argument, std::string("clustering method ") +
                                                     std::string(to_string(options.method)) +
                                                     " needs a model");
    }
    if (options.k < 0) throw Error(ErrorCode::invalid_argument, "cluster k must be >= 0");
    if (options.k_max < 2 || options.k_max > kMaxLetters) {
        throw Error(ErrorCode::invalid_argument,
                    "cluster k_max must be in [2, 26], got " + std::to_string(options.k_max));
    }
    if (options.embedding.max_tokens < 8) {
        throw Error(ErrorCode::invalid_argument, "embedding max_tokens must be >= 8");
    }
}

TurnClusterer::~TurnClusterer() = default;

std::vector<std::vector<float>> TurnClusterer::embed(const std::vector<std::string>& texts) {
    if (!embedder_) {
        embedder_ = std::make_unique<Embedder>(
            model_, EmbedderOptions{.max_tokens = options_.embedding.max_tokens,
                                    .n_threads = options_.n_threads,
                                    .pooling = options_.embedding.pooling,
                                    .template_text = options_.embedding.template_text});
    }
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const std::string& t : texts) out.push_back(embedder_->embed(t));
    return out;
}

TurnRouterOptions TurnClusterer::routing_options() const {
    TurnRouterOptions o = options_.routing;
    o.embedding.max_tokens = options_.embedding.max_tokens;
    o.embedding.pooling = options_.embedding.pooling;
    o.embedding.template_text = options_.embedding.template_text;
    o.n_threads = options_.n_threads;
    return o;
}

void TurnClusterer::cluster_online(const Example& ex, ClusteringResult& r) {
    const TurnRouterOptions o = routing_options();
    if (!router_shared_ && router_needs_model(o)) {
        router_shared_ = make_router_shared(model_, o);
    }
    const std::unique_ptr<TurnRouter> router = make_turn_router(o, router_shared_);
    for (size_t t = 0; t < ex.turns.size(); ++t) {
        if (r.assignment[t] == kSynthesisCluster) continue;
        if (ex.turns[t].role == TurnRole::assistant && t > 0) {
            r.assignment[t] = r.assignment[t - 1];  // the answer stays with its question
            continue;
        }
        const auto t0 = Clock::now();
        const TopicChoice c = router->route(ex.turns[t].text);
        router->commit(c.topic, ex.turns[t].text);
        r.route_ms += ms_since(t0);
        r.assignment[t] = c.topic;
        ++r.n_routed;
        r.n_llm += c.llm_decided;
        r.choices.push_back(c);
        r.routed_turns.push_back(t);
    }
    r.k = router->n_topics();
}

void TurnClusterer::cluster_embedding(const Example& ex, ClusteringResult& r) {
    std::vector<std::string> texts;
    std::vector<size_t> index;  // turn index of each embedded text
    for (size_t t = 0; t < ex.turns.size(); ++t) {
        if (r.assignment[t] == kSynthesisCluster) continue;
        texts.push_back(ex.turns[t].text);
        index.push_back(t);
    }
    if (texts.empty()) return;
    const auto t0 = Clock::now();
    std::vector<std::vector<float>> v =
        options_.method == ClusterMethod::lexical ? tfidf_vectors(texts) : embed(texts);
    r.embed_ms = ms_since(t0);
    if (options_.keep_embeddings) {
        r.embeddings = v;
        r.embedded_turns = index;
    }
    const auto n = static_cast<int32_t>(v.size());
    if (options_.embedding.center && options_.method == ClusterMethod::embedding && n > 1) {
        std::vector<double> mean(v[0].size(), 0.0);
        for (const auto& x : v) {
            for (size_t j = 0; j < x.size(); ++j) mean[j] += x[j];
        }
        for (auto& x : v) {
            for (size_t j = 0; j < x.size(); ++j) x[j] -= static_cast<float>(mean[j] / n);
        }
    }
    const DistanceMatrix d = cosine_distances(v);
    const Dendrogram tree = average_linkage(d);
    int32_t k = options_.k;
    if (options_.k_from_labels) k = static_cast<int32_t>(ex.topics().size());
    if (k == 0) {
        const KChoice c = choose_k_by_silhouette(d, tree, 2, options_.k_max);
        k = c.k;
    }
    k = std::clamp(k, 1, n);
    const std::vector<int32_t> labels = cut(tree, k);
    r.silhouette = silhouette(d, labels);
    r.k = k;
    for (int32_t i = 0; i < n; ++i) r.assignment[index[i]] = labels[i];
}

void TurnClusterer::cluster_llm(const Example& ex, ClusteringResult& r) {
    std::vector<size_t> index;
    for (size_t t = 0; t < ex.turns.size(); ++t) {
        if (r.assignment[t] != kSynthesisCluster) index.push_back(t);
    }
    if (index.empty()) return;
    int32_t n_letters = options_.k_max;
    if (options_.k > 0) n_letters = std::min(options_.k, kMaxLetters);
    if (options_.k_from_labels) {
        n_letters = std::clamp(static_cast<int32_t>(ex.topics().size()), 1, kMaxLetters);
    }
    const char last_letter = static_cast<char>('A' + n_letters - 1);

    std::string prompt =
        "Below are the numbered messages of one conversation. The person talks about several "
        "separate subjects. Give every message a topic letter: messages about the same subject "
        "get the same letter; start with A and use the next letter (B, C, ...) only when a "
        "message starts a subject not seen before.\n\n";
    for (size_t i = 0; i < index.size(); ++i) {
        prompt += std::to_string(i + 1) + ". " +
                  utf8_prefix(ex.turns[index[i]].text, kMaxLlmTurnChars) + "\n\n";
    }
    prompt += "Answer with one line per message, \"number: letter\".";
    std::string grammar = "root ::=";
    for (size_t i = 0; i < index.size(); ++i) {
        grammar += " \"" + std::to_string(i + 1) + ": \" letter \"\\n\"";
    }
    grammar += std::string("\nletter ::= [A-") + last_letter + "]\n";

    const ChatFormatter chat(*model_);
    const Tokens prompt_tokens = chat.tokenize(chat.format({{"user", prompt}}));
    Session session(model_, {.n_ctx = static_cast<int32_t>(prompt_tokens.size()) + 1024,
                             .n_seq_max = 1,
                             .n_threads = options_.n_threads});
    Sequence seq = session.open();
    const auto t0 = Clock::now();
    GenerationRequest req;
    req.seq = &seq;
    req.prompt = prompt_tokens;
    req.sampling.grammar = grammar;
    req.max_tokens = static_cast<int32_t>(8 * index.size() + 8);
    const std::string answer = generate(session, std::span(&req, 1))[0].text;

    // The grammar makes the answer exactly "1: X\n2: Y\n...".
    std::map<char, int32_t> value_of;  // letters in order of first use -> 0, 1, ...
    std::vector<char> letters;
    size_t pos = 0;
    for (size_t i = 0; i < index.size(); ++i) {
        const size_t colon = answer.find(": ", pos);
        if (colon == std::string::npos || colon + 2 >= answer.size()) {
            throw Error(ErrorCode::backend_failure,
                        ex.id + ": llm clustering answer did not complete: " + answer);
        }
        const char letter = answer[colon + 2];
        const auto it = value_of.emplace(letter, static_cast<int32_t>(value_of.size())).first;
        if (it->second == static_cast<int32_t>(letters.size())) letters.push_back(letter);
        r.assignment[index[i]] = it->second;
        pos = colon + 3;
    }
    r.k = static_cast<int32_t>(letters.size());

    // Names, continuing the same answer: one line per letter used, in order of first use.
    std::string names_grammar = "root ::=";
    for (char l : letters) names_grammar += std::string(" \"") + l + " = \" name \"\\n\"";
    names_grammar += "\nname ::= [A-Za-z] [A-Za-z0-9 ,&'-]{0,23}\n";
    GenerationRequest names;
    names.seq = &seq;
    names.prompt = model_->tokenize("Topic names:\n", false);
    names.sampling.grammar = names_grammar;
    names.max_tokens = static_cast<int32_t>(16 * letters.size() + 8);
    const std::string named = generate(session, std::span(&names, 1))[0].text;
    r.embed_ms = ms_since(t0);
    r.topic_names.assign(letters.size(), "");
    for (size_t i = 0; i < letters.size(); ++i) {
        const std::string key = std::string(1, letters[i]) + " = ";
        const size_t at = named.find(key);
        if (at == std::string::npos) continue;
        const size_t end = named.find('\n', at);
        r.topic_names[i] = named.substr(
            at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
    }
}

ClusteringResult TurnClusterer::cluster(const Example& ex) {
    const auto t0 = Clock::now();
    ClusteringResult r;
    r.method = options_.method;
    const std::vector<int32_t> truth = label_assignment(ex);
    switch (options_.method) {
        case ClusterMethod::labels:
            r.assignment = truth;
            break;
        case ClusterMethod::random:
            r.assignment = random_assignment(ex, options_.seed);
            break;
        case ClusterMethod::positional:
            r.assignment = positional_assignment(static_cast<int32_t>(ex.turns.size()),
                                                 static_cast<int32_t>(ex.clusters.size()));
            break;
        case ClusterMethod::embedding:
        case ClusterMethod::online:
        case ClusterMethod::lexical:
        case ClusterMethod::llm: {
            r.assignment.assign(ex.turns.size(), 0);
            if (options_.detect_synthesis) {
                std::vector<std::string> texts;
                for (const Turn& t : ex.turns) texts.push_back(t.text);
                r.synthesis = detect_synthesis_turns(texts);
                for (size_t i = 0; i < texts.size(); ++i) {
                    if (r.synthesis[i].is_synthesis) r.assignment[i] = kSynthesisCluster;
                }
            }
            if (options_.method == ClusterMethod::llm)
                cluster_llm(ex, r);
            else if (options_.method == ClusterMethod::online)
                cluster_online(ex, r);
            else
                cluster_embedding(ex, r);
            break;
        }
    }
    if (r.k == 0) {
        std::vector<int32_t> topics;
        for (int32_t v : r.assignment) {
            if (v >= 0) topics.push_back(v);
        }
        std::sort(topics.begin(), topics.end());
        r.k = static_cast<int32_t>(std::unique(topics.begin(), topics.end()) - topics.begin());
    }
    r.ari = adjusted_rand_index(truth, r.assignment);
    r.nmi = normalized_mutual_info(truth, r.assignment);
    r.total_ms = ms_since(t0);
    return r;
}

}  // namespace rdic
