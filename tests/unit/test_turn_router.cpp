// The model-free parts of online topic routing: the threshold decision, incremental TF-IDF and
// the method names/defaults (turn_router.h, lexical.h).
#include <gtest/gtest.h>

#include "rdic/clustering/lexical.h"
#include "rdic/clustering/topic_shift.h"
#include "rdic/clustering/turn_router.h"
#include "rdic/error.h"

namespace rdic {
namespace {

TEST(ChooseTopic, FirstMessageOpensTopicZero) {
    const TopicChoice c = choose_topic({}, 0.5, 0);
    EXPECT_EQ(c.topic, 0);
    EXPECT_TRUE(c.opened);
}

TEST(ChooseTopic, BestAboveThresholdJoinsWithMarginToRunnerUp) {
    const TopicChoice c = choose_topic({0.55, 0.9, 0.7}, 0.5, 0);
    EXPECT_EQ(c.topic, 1);
    EXPECT_FALSE(c.opened);
    EXPECT_DOUBLE_EQ(c.score, 0.9);
    EXPECT_NEAR(c.margin, 0.2, 1e-12);  // to topic 2, closer than "new" at 0.5
}

TEST(ChooseTopic, MarginToTheThresholdWhenItIsCloser) {
    const TopicChoice c = choose_topic({0.6, 0.1}, 0.5, 0);
    EXPECT_EQ(c.topic, 0);
    EXPECT_NEAR(c.margin, 0.1, 1e-12);
}

TEST(ChooseTopic, BelowThresholdOpensUnlessFull) {
    TopicChoice c = choose_topic({0.3, 0.2}, 0.5, 0);
    EXPECT_EQ(c.topic, 2);
    EXPECT_TRUE(c.opened);
    EXPECT_NEAR(c.margin, 0.2, 1e-12);
    c = choose_topic({0.3, 0.2}, 0.5, 2);  // two topics allowed: the best existing one
    EXPECT_EQ(c.topic, 0);
    EXPECT_FALSE(c.opened);
    EXPECT_NEAR(c.margin, 0.1, 1e-12);
}

TEST(ChooseTopic, TiesGoToTheLowerTopic) {
    EXPECT_EQ(choose_topic({0.7, 0.7}, 0.5, 0).topic, 0);
}

TEST(IncrementalTfidf, RoutesByWordsSeenSoFar) {
    IncrementalTfidf t;
    EXPECT_TRUE(t.similarity("anything").empty());
    t.add(0, "The chemistry practicals need burettes and a fume cupboard.");
    t.add(1, "Parents' evening bookings move to MeetPoint with five-minute slots.");
    const std::vector<double> s = t.similarity("How many burettes does the chemistry lab have?");
    ASSERT_EQ(s.size(), 2u);
    EXPECT_GT(s[0], 0.2);
    EXPECT_DOUBLE_EQ(s[1], 0.0);
    const std::vector<double> p = t.similarity("Send MeetPoint reminders before the evening.");
    EXPECT_GT(p[1], p[0]);
}

TEST(IncrementalTfidf, WordSharedWithTheOnlyTopicStillCounts) {
    // With one earlier message every shared word has df = N - 1: plain idf would zero it.
    IncrementalTfidf t;
    t.add(0, "garden grant application");
    EXPECT_GT(t.similarity("the grant")[0], 0.3);
}

TEST(IncrementalTfidf, NoWordsMeansZeroSimilarityAndBadTopicThrows) {
    IncrementalTfidf t;
    t.add(0, "budget");
    EXPECT_DOUBLE_EQ(t.similarity("?!")[0], 0.0);
    EXPECT_THROW(t.add(2, "x"), Error);
    EXPECT_THROW(t.add(-1, "x"), Error);
    t.add(1, "x");
    EXPECT_EQ(t.n_topics(), 2);
}

TEST(RouterMethod, NamesRoundTripAndUnknownIsNamed) {
    for (RouterMethod m :
         {RouterMethod::centroid, RouterMethod::instruct, RouterMethod::lexical,
          RouterMethod::hybrid, RouterMethod::llm, RouterMethod::hybrid_llm, RouterMethod::pair}) {
        EXPECT_EQ(parse_router_method(to_string(m)), m);
    }
    try {
        parse_router_method("kmeans");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("kmeans"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("hybrid-llm"), std::string::npos);
    }
    EXPECT_FALSE(router_needs_model(RouterMethod::lexical));
    EXPECT_TRUE(router_needs_model(RouterMethod::centroid));
}

TEST(RouterOptions, DefaultsFilledAndBadValuesRefused) {
    const TurnRouterOptions c = resolved({});
    EXPECT_DOUBLE_EQ(c.threshold, 0.90);  // today's cosine distance 0.10
    EXPECT_EQ(c.embedding.pooling, Pooling::mean);
    const TurnRouterOptions i = resolved({.method = "instruct"});
    EXPECT_EQ(i.embedding.pooling, Pooling::last);
    EXPECT_NE(i.embedding.template_text.find("{text}"), std::string::npos);
    EXPECT_THROW(resolved({.threshold = 1.5}), Error);
    EXPECT_THROW(resolved({.lexical_weight = -0.5}), Error);
    EXPECT_THROW(resolved({.method = "nope"}), Error);
    const TurnRouterOptions p = resolved({.method = "pair"});
    EXPECT_DOUBLE_EQ(p.threshold, 0.05);  // chosen on dev (docs/routing.md)
    EXPECT_DOUBLE_EQ(p.recency, 0.01);
    EXPECT_EQ(p.shift_cues, 1);
    TurnRouterOptions bad{.method = "pair"};
    bad.pair_window = 0;
    EXPECT_THROW(resolved(bad), Error);
    bad.pair_window = 65;
    EXPECT_THROW(resolved(bad), Error);
    bad = {.method = "pair"};
    bad.pair_tokens = 3;
    EXPECT_THROW(resolved(bad), Error);
    bad = {.method = "lexical"};
    bad.shift_llm_context = 2;
    EXPECT_THROW(resolved(bad), Error);
}

}  // namespace
}  // namespace rdic

namespace rdic {
namespace {

TEST(TopicShift, OpeningsOfNewMattersAreCues) {
    for (const char* t : {"Second thing, completely separate: our Year 11 parents' evening.",
                          "Separately, sales leadership wants a new commission plan.",
                          "Different topic. We also operate a bonded warehouse.",
                          "Switching to something else entirely. I also sit on a committee.",
                          "Third: lunchtime. We have five midday supervisors.",
                          "The second headache is a doctoral student.",
                          "Next topic, revenue cycle. Our initial denial rate is up.",
                          "  \"Another issue.\" The inspector came last week."}) {
        EXPECT_TRUE(starts_new_topic(t)) << t;
    }
}

TEST(TopicShift, ContinuationsAndMidMessageWordsAreNot) {
    for (const char* t : {"Finally on currency: once the hedge ratio is set, who reviews it?",
                          "Also, what should we measure monthly?",
                          "Last thing on this one: the lender also wants a variance bridge.",
                          "One more constraint: Delphine wants to pilot banked hours.",
                          "We have a second lab, and a different supplier.", ""}) {
        EXPECT_FALSE(starts_new_topic(t)) << t;
    }
}

}  // namespace
}  // namespace rdic
