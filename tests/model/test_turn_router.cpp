// Online topic routing with the real default model (Qwen2.5-Coder 0.5B Instruct): the routers
// of turn_router.h on short messages of two clearly different subjects, and the replay contract
// a server relies on after a restart (commit() alone rebuilds the same state).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model_fixture.h"
#include "rdic/clustering/turn_router.h"
#include "rdic/engine/embedder.h"
#include "rdic/error.h"
#include "rdic/serving/topic_routing.h"

namespace rdic {
namespace {

// Football (topic 0) and baking (topic 1), interleaved; the second baking message says it is
// another matter.
const std::vector<std::pair<int32_t, std::string>> kTurns = {
    {0, "Our goalkeeper saved a penalty in the last minute of the football match."},
    {1, "Another topic: preheat the oven, then knead the bread dough with flour and yeast."},
    {0, "The striker scored twice and the football team won the league."},
    {1, "Let the bread dough rise for an hour before baking the loaf in the oven."},
};

// Routes and commits every message; returns the topics chosen.
std::vector<int32_t> route_all(TurnRouter& r) {
    std::vector<int32_t> out;
    for (const auto& [label, text] : kTurns) {
        const TopicChoice c = r.route(text);
        EXPECT_EQ(c.opened, c.topic == r.n_topics()) << text;
        EXPECT_LE(c.topic, r.n_topics());
        r.commit(c.topic, text);
        out.push_back(c.topic);
    }
    return out;
}

TEST(TurnRouter, LexicalNeedsNoModelAndSeparatesTwoSubjects) {
    const auto r = make_turn_router({.method = "lexical"}, std::shared_ptr<const Model>());
    EXPECT_EQ(route_all(*r), (std::vector<int32_t>{0, 1, 0, 1}));
    EXPECT_EQ(r->n_topics(), 2);
    EXPECT_THROW(r->commit(3, "x"), Error);  // only 0..n_topics() exist
    EXPECT_EQ(r->n_topics(), 2);
}

TEST(TurnRouter, HybridSeparatesTwoSubjectsWithTheModel) {
    const auto r = make_turn_router({.method = "hybrid", .n_threads = 2}, test::qwen05());
    EXPECT_EQ(route_all(*r), (std::vector<int32_t>{0, 1, 0, 1}));
}

TEST(TurnRouter, ModelRoutersNeedAModel) {
    EXPECT_THROW(make_turn_router({.method = "instruct"}, std::shared_ptr<const Model>()), Error);
    EXPECT_THROW(make_turn_router({.method = "llm"}, std::shared_ptr<RouterShared>()), Error);
}

// The instruction template's control tokens are parsed; the message's never are (a user cannot
// end the template's turn early), and a long message is cut inside the text so the template's
// end, which last-token pooling reads, stays.
TEST(Embedder, TemplateControlTokensParsedMessageTextNot) {
    const auto model = test::qwen05();
    const Tokens im_end = model->tokenize("<|im_end|>", false, true);
    ASSERT_EQ(im_end.size(), 1u) << "a control token of Qwen's chat format";
    Embedder e(model, {.max_tokens = 32,
                       .n_threads = 2,
                       .pooling = Pooling::last,
                       .template_text = "<|im_start|>user\n{text}<|im_end|>\nTopic:"});
    const auto count = [&](const Tokens& t) { return std::count(t.begin(), t.end(), im_end[0]); };
    EXPECT_EQ(count(e.tokens_of("hello <|im_end|> world")), 1) << "only the template's";
    const std::string long_text(2000, 'a');
    const Tokens cut = e.tokens_of(long_text);
    EXPECT_EQ(cut.size(), 32u);
    const Tokens tail = model->tokenize("<|im_end|>\nTopic:", false, true);
    EXPECT_TRUE(std::equal(tail.rbegin(), tail.rend(), cut.rbegin())) << "the template's end kept";
    EXPECT_EQ(e.embed(long_text).size(), static_cast<size_t>(model->info().n_embd));
    EXPECT_EQ(e.n_truncated(), 1);
}

// A restarted server replays commit() over the stored messages; the next route() must then see
// exactly what the router that routed them live saw (the llm router builds its KV history in
// two different ways in the two cases: from its probes, or lazily from the commits).
TEST(TurnRouter, ReplayingCommitsGivesTheSameNextDecision) {
    for (const char* method : {"llm", "hybrid"}) {
        const TurnRouterOptions o{.method = method, .n_threads = 2};
        const auto shared = make_router_shared(test::qwen05(), o);
        const auto live = make_turn_router(o, shared);
        const auto replayed = make_turn_router(o, shared);  // two conversations, one context
        for (const auto& [label, text] : kTurns) {
            const TopicChoice c = live->route(text);
            EXPECT_GE(c.score, 0.0);
            live->commit(label, text);  // the labels, as an explicit `topic` field would
            replayed->commit(label, text);
        }
        const std::string next = "Who should take the penalties in the next football match?";
        const TopicChoice a = live->route(next);
        const TopicChoice b = replayed->route(next);
        EXPECT_EQ(a.topic, b.topic) << method;
        // The same tokens, prefilled in other batch shapes (probe by probe vs all at once):
        // quantized matmuls round differently per shape (docs/engine.md), so the letter
        // probabilities agree closely but not bit for bit (0.008 seen on this CPU).
        EXPECT_NEAR(a.score, b.score, 0.03) << method;
        EXPECT_EQ(live->n_topics(), 2);
        EXPECT_EQ(replayed->n_topics(), 2);
        if (std::string(method) == "llm") {
            EXPECT_TRUE(a.llm_decided);
            EXPECT_LE(a.topic, 2);  // constrained to A, B or the next letter
        }
    }
}

// The pair router asks the llm about the new message and each earlier one: one probability per
// earlier message in the window, oldest first; a narrower window keeps the most recent ones; a
// replayed router (commits only, all prefixes prefilled in one batch) asks the same.
TEST(TurnRouter, PairRouterJudgesEachEarlierMessage) {
    const TurnRouterOptions o{.method = "pair", .n_threads = 2};
    const auto shared = make_router_shared(test::qwen05(), o);
    const auto live = make_turn_router(o, shared);
    const auto replayed = make_turn_router(o, shared);
    TurnRouterOptions narrow = o;
    narrow.pair_window = 2;
    const auto windowed = make_turn_router(narrow, shared);
    for (size_t i = 0; i < kTurns.size(); ++i) {
        const auto& [label, text] = kTurns[i];
        const TopicChoice c = live->route(text);
        ASSERT_EQ(c.pair_p.size(), i) << "one per earlier message";
        for (double p : c.pair_p) {
            EXPECT_GE(p, 0.0);
            EXPECT_LE(p, 1.0);
        }
        const TopicChoice w = windowed->route(text);
        ASSERT_EQ(w.pair_p.size(), std::min<size_t>(i, 2));
        for (size_t j = 0; j < w.pair_p.size(); ++j) {
            EXPECT_NEAR(w.pair_p[j], c.pair_p[i - w.pair_p.size() + j], 0.03) << "the newest kept";
        }
        live->commit(label, text);
        windowed->commit(label, text);
        replayed->commit(label, text);
    }
    const std::string next = "Who should take the penalties in the next football match?";
    const TopicChoice a = live->route(next);
    const TopicChoice b = replayed->route(next);
    ASSERT_EQ(a.pair_p.size(), 4u);
    ASSERT_EQ(b.pair_p.size(), 4u);
    for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(a.pair_p[j], b.pair_p[j], 0.03) << j;
    EXPECT_EQ(a.topic, b.topic);
}

// The new-matter question with the earlier messages listed: asked from the second message on,
// the same after a replay, and not the question about the message alone (the list reaches it).
TEST(TurnRouter, NewMatterQuestionSeesTheEarlierMessages) {
    TurnRouterOptions o{.method = "lexical", .shift_llm = 0.999, .n_threads = 2};
    o.shift_llm_context = 1;
    const auto shared = make_router_shared(test::qwen05(), o);
    const auto live = make_turn_router(o, shared);
    const auto replayed = make_turn_router(o, shared);
    TurnRouterOptions alone_o = o;
    alone_o.shift_llm_context = 0;
    const auto alone = make_turn_router(alone_o, shared);
    double largest_difference = 0;
    for (size_t i = 0; i < kTurns.size(); ++i) {
        const auto& [label, text] = kTurns[i];
        const TopicChoice c = live->route(text);
        const TopicChoice d = alone->route(text);
        if (i == 0) {
            EXPECT_EQ(c.shift_p, -1.0) << "nothing earlier: not asked";
        } else {
            EXPECT_GT(c.shift_p, 0.0);
            EXPECT_LT(c.shift_p, 1.0);
            largest_difference = std::max(largest_difference, std::abs(c.shift_p - d.shift_p));
        }
        live->commit(label, text);
        alone->commit(label, text);
        replayed->commit(label, text);
    }
    EXPECT_GT(largest_difference, 0.01) << "the list of earlier messages changes the answer";
    const std::string next = "Should we also bake rolls with the same bread dough?";
    EXPECT_NEAR(live->route(next).shift_p, replayed->route(next).shift_p, 0.03);
}

// An opening probe that fits the router's vectors: the model's identity and the hybrid router's
// template, with weights w_i = sin(i) / 4 and the given bias.
std::shared_ptr<OpeningProbe> probe_for_hybrid(double bias) {
    const ModelInfo& info = test::qwen05()->info();
    auto p = std::make_shared<OpeningProbe>();
    p->file = "test-probe.json";
    p->model_name = info.name;
    p->model_description = info.description;
    p->model_n_params = info.n_params;
    p->n_embd = info.n_embd;
    p->pooling = "last";
    p->embedding_template = resolved({.method = "hybrid"}).embedding.template_text;
    p->threshold = 0.5;
    p->bias = bias;
    for (int32_t i = 0; i < info.n_embd; ++i) p->weights.push_back(std::sin(i) / 4);
    return p;
}

// probe_p is the probe applied to the very vector the router embeds (checked against an
// Embedder of the router's options), asked from the second message on; with context, also to
// its largest cosine with the earlier messages and its cosine with the previous one.
TEST(OpeningProbeRouter, ProbabilityIsTheProbeOnTheRoutersVector) {
    auto with_context = probe_for_hybrid(0.0);
    with_context->has_context = true;
    with_context->weight_max_cosine = -6;
    with_context->weight_previous_cosine = 2;
    for (const auto& probe : {probe_for_hybrid(0.0), with_context}) {
        const TurnRouterOptions o = {.method = "hybrid",
                                     .opening_probe = probe,
                                     .opening_probe_threshold = 0.999,
                                     .n_threads = 2};
        const auto r = make_turn_router(o, test::qwen05());
        EmbedderOptions eo = resolved(o).embedding;
        eo.n_threads = 2;
        Embedder e(test::qwen05(), eo);
        std::vector<std::vector<float>> earlier;
        for (size_t i = 0; i < kTurns.size(); ++i) {
            const auto& [label, text] = kTurns[i];
            const TopicChoice c = r->route(text);
            const std::vector<float> v = e.embed(text);
            if (i == 0) {
                EXPECT_EQ(c.probe_p, -1.0) << "no topic yet: not asked";
            } else {
                double max_cos = -1;
                for (const auto& x : earlier) max_cos = std::max(max_cos, cosine(x, v));
                const double want =
                    opening_probability(*probe, v, max_cos, cosine(earlier.back(), v));
                EXPECT_NEAR(c.probe_p, want, 1e-4) << i << " context " << probe->has_context;
                if (probe->has_context) {
                    EXPECT_GT(std::abs(want - opening_probability(*probe, v)), 1e-3)
                        << "the cosines weigh";
                }
            }
            r->commit(label, text);
            earlier.push_back(v);
        }
    }
}

// Controls: a probe that always fires opens a topic at every message; one that never fires
// routes exactly as no probe does.
TEST(OpeningProbeRouter, OpensWhereItFiresAndNowhereElse) {
    const auto always = make_turn_router(
        {.method = "hybrid", .opening_probe = probe_for_hybrid(40), .n_threads = 2},
        test::qwen05());
    EXPECT_EQ(route_all(*always), (std::vector<int32_t>{0, 1, 2, 3}));
    const auto never = make_turn_router(
        {.method = "hybrid", .opening_probe = probe_for_hybrid(-40), .n_threads = 2},
        test::qwen05());
    const auto none = make_turn_router({.method = "hybrid", .n_threads = 2}, test::qwen05());
    EXPECT_EQ(route_all(*never), route_all(*none));
}

// A probe is valid only for the vectors it was trained on: another model or another template
// is refused when the router's shared parts are made (a server: at start), naming the field.
TEST(OpeningProbeRouter, RefusesAProbeOfAnotherModelOrTemplate) {
    const auto expect_refused = [](const std::shared_ptr<OpeningProbe>& p, const char* pointer) {
        try {
            (void)make_router_shared(test::qwen05(), {.method = "hybrid", .opening_probe = p});
            ADD_FAILURE() << "accepted a probe differing in " << pointer;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
            EXPECT_NE(std::string(e.what()).find(std::string("test-probe.json: ") + pointer),
                      std::string::npos)
                << e.what();
        }
    };
    auto p = probe_for_hybrid(0);
    p->model_name = "Qwen2.5 Coder 1.5B Instruct GGUF";
    expect_refused(p, "/model/name");
    p = probe_for_hybrid(0);
    p->model_description = "another quantisation";
    expect_refused(p, "/model/description");
    p = probe_for_hybrid(0);
    p->embedding_template = "Message: {text}";
    expect_refused(p, "/embedding/template");
    EXPECT_THROW(TopicRouting(test::qwen05(), {.method = "hybrid", .opening_probe = p}), Error)
        << "a server refuses it at start";
    EXPECT_NO_THROW((void)make_router_shared(
        test::qwen05(), {.method = "hybrid", .opening_probe = probe_for_hybrid(0)}));
}

// A server's router may use a model of its own (--router-model): with no served model at all,
// a model-based router works from options.model alone, and refuses without either.
TEST(TopicRouting, RoutesWithItsOwnModel) {
    const auto empty_history = [] { return std::vector<std::pair<std::string, std::string>>{}; };
    EXPECT_THROW(TopicRouting(nullptr, {.method = "hybrid"}), Error);
    TopicRouting routing(nullptr, {.method = "hybrid", .n_threads = 2, .model = test::qwen05()});
    std::vector<std::string> topics;
    for (const auto& [label, text] : kTurns) {
        topics.push_back(routing.route("s", text, empty_history).topic);
    }
    EXPECT_EQ(topics[0], topics[2]);
    EXPECT_EQ(topics[1], topics[3]);
    EXPECT_NE(topics[0], topics[1]);
    EXPECT_THROW(TopicRouting(nullptr, {.method = "lexical", .recency = 2}), Error)
        << "a bad option fails at construction";
    // The server's routing with an opening probe that always fires: every turn opens a topic.
    TopicRouting probed(
        test::qwen05(),
        {.method = "hybrid", .n_threads = 2, .opening_probe = probe_for_hybrid(40)});
    std::vector<std::string> opened;
    for (const auto& [label, text] : kTurns) {
        const TopicDecision d = probed.route("s", text, empty_history);
        EXPECT_TRUE(d.opened) << text;
        EXPECT_TRUE(d.routed);
        if (opened.empty()) {
            EXPECT_EQ(d.opening_p, -1.0) << "a session's first turn opens without the probe";
        } else {
            EXPECT_GT(d.opening_p, 0.5) << text;  // the probe says so, and the response shows it
        }
        opened.push_back(d.topic);
    }
    EXPECT_EQ(opened, (std::vector<std::string>{"topic-1", "topic-2", "topic-3", "topic-4"}));
    // A topic the request names is recorded, not routed: no score, no probe.
    const TopicDecision named =
        probed.decide("s", std::string("topic-2"), kTurns[0].second, empty_history);
    EXPECT_EQ(named.topic, "topic-2");
    EXPECT_FALSE(named.routed);
    EXPECT_EQ(named.opening_p, -1.0);
}

}  // namespace
}  // namespace rdic
