// The turn routers behind make_turn_router(): the similarity routers (centroid, instruct,
// lexical, hybrid) here, the llm decision in llm_router.cpp.
#include "rdic/clustering/turn_router.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "llm_router.h"
#include "rdic/clustering/lexical.h"
#include "rdic/clustering/router.h"
#include "rdic/clustering/topic_shift.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void check_topic(int32_t topic, int32_t n_topics) {
    if (topic < 0 || topic > n_topics) {
        throw Error(ErrorCode::invalid_argument, "router: topic " + std::to_string(topic) + " of " +
                                                     std::to_string(n_topics) + " (a new one is " +
                                                     std::to_string(n_topics) + ")");
    }
}

// centroid / instruct (embeddings), lexical (words), hybrid (both), hybrid-llm (both + llm),
// pair (the llm's p(same matter) with each earlier message).
class SimilarityRouter final : public TurnRouter {
public:
    SimilarityRouter(const TurnRouterOptions& options, std::shared_ptr<RouterShared> shared)
        : options_(options),
          method_(parse_router_method(options.method)),
          shared_(std::move(shared)) {
        uses_embedding_ = method_ != RouterMethod::lexical && method_ != RouterMethod::pair;
        uses_lexical_ = method_ == RouterMethod::lexical || method_ == RouterMethod::hybrid ||
                        method_ == RouterMethod::hybrid_llm;
        if (method_ == RouterMethod::hybrid_llm) llm_ = std::make_unique<LlmRouter>(shared_);
        if (method_ == RouterMethod::pair) {
            pairs_ =
                std::make_unique<PairJudge>(shared_, options_.pair_tokens, options_.pair_window);
        }
        if (options_.shift_llm > 0 && options_.shift_llm_context == 1) {
            asker_ = std::make_unique<NewMatterAsker>(shared_, options_.shift_llm_tokens);
        }
    }

    TopicChoice route(std::string_view text) override {
        const auto t0 = Clock::now();
        std::vector<double> pair_p;
        std::vector<double> sim = similarity(text, pair_p);
        if (last_topic_ >= 0) sim[last_topic_] += options_.recency;
        TopicChoice c = choose_topic(sim, options_.threshold, options_.max_topics);
        c.pair_p = std::move(pair_p);
        const bool room = options_.max_topics == 0 || n_topics_ < options_.max_topics;
        c.shift_cue = options_.shift_cues == 1 && n_topics_ > 0 && starts_new_topic(text);
        if (options_.opening_probe && n_topics_ > 0) {
            const std::vector<float>& v = embed(text);
            double max_cos = -1, previous_cos = 0;
            if (options_.opening_probe->has_context) {  // every committed message's is kept
                const std::vector<double>& cos = cosines(v);
                for (double x : cos) max_cos = std::max(max_cos, x);
                previous_cos = cos.back();
            }
            c.probe_p = opening_probability(*options_.opening_probe, v, max_cos, previous_cos);
            if (c.probe_p >= options_.opening_probe_threshold) c.shift_cue = true;
        }
        if (options_.shift_llm > 0 && n_topics_ > 0) {
            c.shift_p = asker_ ? asker_->ask(text).value_or(-1)
                               : new_matter_probability(*shared_, text, options_.shift_llm_tokens);
            if (c.shift_p >= options_.shift_llm) c.shift_cue = true;
        }
        if (c.shift_cue && room && !c.opened) {
            c.topic = n_topics_;
            c.opened = true;
            c.margin = 1;  // a cue is not weighed against the similarities
        }
        if (llm_ && !c.shift_cue && n_topics_ > 0 && c.margin < options_.llm_margin) {
            const TopicChoice l = llm_->route(text);
            if (!l.opened || options_.max_topics == 0 || n_topics_ < options_.max_topics) {
                c.topic = l.topic;
                c.opened = l.opened;
                c.llm_decided = true;
            }
        }
        c.route_ms = ms_since(t0);
        return c;
    }

    void commit(int32_t topic, std::string_view text) override {
        check_topic(topic, n_topics_);
        std::optional<std::vector<float>> v;
        if (uses_embedding_) v = embed(text);  // may throw: nothing changed yet
        if (llm_) llm_->commit(topic, text);
        if (asker_) asker_->note(text);
        if (pairs_) {
            pairs_->note(text);
            topic_of_.push_back(topic);
        }
        if (v) {
            if (!centroids_) {
                centroids_.emplace(static_cast<int32_t>(v->size()), RouterOptions{});
            }
            centroids_->assign(topic, *v);
            if (keeps_vectors()) {
                if (topic == n_topics_) members_.emplace_back();
                members_[topic].push_back(vectors_.size());
                vectors_.push_back(std::move(*v));
            }
        }
        if (uses_lexical_) words_.add(topic, std::string(text));
        if (topic == n_topics_) ++n_topics_;
        last_topic_ = topic;
    }

    int32_t n_topics() const override { return n_topics_; }

private:
    // The combined similarity with each topic: (1 - w) x the model's source (the pair judge's,
    // or the embeddings') + w x the lexical one, w the lexical weight (1 for lexical, 0 without
    // words). pair_p receives the pair judge's answers.
    std::vector<double> similarity(std::string_view text, std::vector<double>& pair_p) {
        std::vector<double> sim(static_cast<size_t>(n_topics_), 0.0);
        if (n_topics_ == 0) {
            if (uses_embedding_) (void)embed(text);  // cached for the commit that follows
            return sim;
        }
        const double w = method_ == RouterMethod::lexical ? 1.0
                         : uses_lexical_                  ? options_.lexical_weight
                                                          : 0.0;
        auto add = [&](double weight, const std::vector<double>& source) {
            for (int32_t i = 0; i < n_topics_; ++i) sim[i] += weight * source[i];
        };
        if (pairs_) {
            pair_p = pairs_->ask(text).value_or(std::vector<double>{});
            add(1 - w, pair_similarity(pair_p));
        } else if (uses_embedding_) {
            add(1 - w, embedding_similarity(text));
        }
        if (uses_lexical_) add(w, words_.similarity(std::string(text)));
        return sim;
    }

    // The mean cosine with the topic's messages (mean link), or 1 - the distance to its centroid.
    std::vector<double> embedding_similarity(std::string_view text) {
        std::vector<double> out(static_cast<size_t>(n_topics_), 0.0);
        if (options_.mean_link == 1) {
            const std::vector<double>& cos = cosines(embed(text));
            for (int32_t i = 0; i < n_topics_; ++i) {
                double sum = 0;
                for (size_t m : members_[i]) sum += cos[m];
                out[i] = sum / static_cast<double>(members_[i].size());
            }
            return out;
        }
        const std::vector<double> d = centroids_->distances(embed(text));
        for (int32_t i = 0; i < n_topics_; ++i) out[i] = 1 - d[i];
        return out;
    }

    // The mean p(same matter) with the topic's messages in the judge's window; a topic with none
    // there scores 0. No room in the llm context (pair_p empty): every topic scores 0 (opens).
    std::vector<double> pair_similarity(const std::vector<double>& pair_p) const {
        std::vector<double> out(static_cast<size_t>(n_topics_), 0.0);
        std::vector<int32_t> n(static_cast<size_t>(n_topics_), 0);
        for (size_t i = 0; i < pair_p.size(); ++i) {
            const int32_t t = topic_of_[static_cast<size_t>(pairs_->first_kept()) + i];
            out[t] += pair_p[i];
            ++n[t];
        }
        for (int32_t t = 0; t < n_topics_; ++t) {
            if (n[t] > 0) out[t] /= n[t];
        }
        return out;
    }

    // Mean link and the probe's context read every committed message's vector.
    bool keeps_vectors() const {
        return options_.mean_link == 1 ||
               (options_.opening_probe && options_.opening_probe->has_context);
    }

    // The cosines of `v` (the vector of the text being routed) with every committed message's,
    // computed once per routed text for the mean link and the probe's context.
    const std::vector<double>& cosines(const std::vector<float>& v) {
        if (cosines_text_ != cached_text_ || cosines_.size() != vectors_.size()) {
            cosines_.clear();
            for (const std::vector<float>& e : vectors_) cosines_.push_back(cosine(e, v));
            cosines_text_ = cached_text_;
        }
        return cosines_;
    }

    // route() and the commit() of the same text embed once.
    const std::vector<float>& embed(std::string_view text) {
        if (!cached_ || cached_text_ != text) {
            cached_vector_ = shared_embedder(*shared_).embed(text);
            cached_text_ = std::string(text);
            cached_ = true;
        }
        return cached_vector_;
    }

    TurnRouterOptions options_;
    RouterMethod method_;
    std::shared_ptr<RouterShared> shared_;
    bool uses_embedding_ = false, uses_lexical_ = false;
    int32_t n_topics_ = 0;
    int32_t last_topic_ = -1;                   // topic of the last committed message
    std::optional<OnlineRouter> centroids_;     // created with the first vector's size
    std::vector<std::vector<float>> vectors_;   // keeps_vectors(): every committed message's
    std::vector<std::vector<size_t>> members_;  // mean_link: per topic, its messages in vectors_
    std::vector<double> cosines_;               // cosines(): with vectors_, for cosines_text_
    std::string cosines_text_;
    IncrementalTfidf words_;
    std::unique_ptr<LlmRouter> llm_;
    std::unique_ptr<NewMatterAsker> asker_;  // shift_llm_context: the question with the list
    std::unique_ptr<PairJudge> pairs_;       // pair
    std::vector<int32_t> topic_of_;          // pair: the topic of each committed message
    bool cached_ = false;
    std::string cached_text_;
    std::vector<float> cached_vector_;
};

}  // namespace

std::shared_ptr<RouterShared> make_router_shared(std::shared_ptr<const Model> model,
                                                 const TurnRouterOptions& options) {
    auto s = std::make_shared<RouterShared>();
    s->options = resolved(options);
    s->model = std::move(model);
    if (router_needs_model(s->options) && !s->model) {
        throw Error(ErrorCode::invalid_argument, "router " + s->options.method + " needs a model");
    }
    if (s->options.opening_probe) {
        check_opening_probe(*s->options.opening_probe, s->model->info(), s->options.embedding);
    }
    return s;
}

void check_opening_probe(const OpeningProbe& probe, const ModelInfo& model,
                         const EmbedderOptions& embedding) {
    auto refuse = [&](const std::string& pointer, const std::string& probe_value,
                      const std::string& router_value) {
        throw Error(ErrorCode::invalid_argument,
                    probe.file + ": " + pointer + ": the probe was trained on " + probe_value +
                        ", the router has " + router_value +
                        " (a probe fits only the vectors it was trained on)");
    };
    auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
    if (probe.model_name != model.name) {
        refuse("/model/name", quoted(probe.model_name), quoted(model.name));
    }
    if (probe.model_description != model.description) {
        refuse("/model/description", quoted(probe.model_description), quoted(model.description));
    }
    if (probe.model_n_params != model.n_params) {
        refuse("/model/n_params", std::to_string(probe.model_n_params),
               std::to_string(model.n_params));
    }
    if (probe.n_embd != model.n_embd) {
        refuse("/model/n_embd", std::to_string(probe.n_embd), std::to_string(model.n_embd));
    }
    if (embedding.pooling != Pooling::last) {
        refuse("/embedding/pooling", quoted(probe.pooling), "another pooling");
    }
    if (probe.embedding_template != embedding.template_text) {
        refuse("/embedding/template", "another template",
               "its own (the router's default instruction unless --embed-template names one)");
    }
}

Embedder& shared_embedder(RouterShared& s) {
    std::lock_guard lock(s.mutex);
    if (!s.embedder) {
        EmbedderOptions e = s.options.embedding;
        e.n_threads = s.options.n_threads;
        s.embedder = std::make_unique<Embedder>(s.model, e);
    }
    return *s.embedder;
}

std::unique_ptr<TurnRouter> make_turn_router(const TurnRouterOptions& options,
                                             std::shared_ptr<RouterShared> shared) {
    const TurnRouterOptions o = resolved(options);
    const RouterMethod m = parse_router_method(o.method);
    if (router_needs_model(o) && !shared) {
        throw Error(ErrorCode::invalid_argument, "router " + o.method + " needs a model");
    }
    if (m == RouterMethod::llm) return std::make_unique<LlmRouter>(std::move(shared));
    return std::make_unique<SimilarityRouter>(o, std::move(shared));
}

std::unique_ptr<TurnRouter> make_turn_router(const TurnRouterOptions& options,
                                             std::shared_ptr<const Model> model) {
    (void)parse_router_method(options.method);  // an unknown name fails before a model loads
    if (!router_needs_model(options))
        return make_turn_router(options, std::shared_ptr<RouterShared>());
    return make_turn_router(options, make_router_shared(std::move(model), options));
}

}  // namespace rdic
