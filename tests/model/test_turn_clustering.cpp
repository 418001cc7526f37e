// The model-backed clustering methods on a small example with two clearly different topics.
#include <gtest/gtest.h>

#include "model_fixture.h"
#include "rdic/clustering/assignment.h"
#include "rdic/clustering/methods.h"

namespace rdic {
namespace {

// Football and baking, interleaved, then a request to combine them.
Example football_and_baking() {
    Example ex;
    ex.id = "two-topics";
    ex.clusters.resize(3);
    ex.clusters[0].id = "football";
    ex.clusters[1].id = "baking";
    ex.clusters[2].id = "both";
    ex.clusters[2].kind = ClusterKind::synthesis;
    ex.clusters[2].depends_on = {"football", "baking"};
    const std::pair<const char*, const char*> turns[] = {
        {"football", "Our goalkeeper saved a penalty in the last minute of the football match."},
        {"baking", "Preheat the oven, then knead the bread dough with flour, yeast and water."},
        {"football", "The striker scored twice and the team won the football league."},
        {"baking", "Let the dough rise for an hour before baking the loaf in the oven."},
        {"football", "The coach changed the football team's formation at half time."},
        {"baking", "Brush the loaf with egg and bake the bread until the crust is golden."},
        {"both", "Now combine both topics into one short note."}};
    int32_t id = 1;
    for (const auto& [cluster, text] : turns) {
        ex.turns.push_back({id++, cluster, TurnType::context, text});
    }
    return ex;
}

TEST(TurnClustering, EmbeddingSeparatesTwoClearTopics) {
    const Example ex = football_and_baking();
    ClusterOptions options;
    options.method = ClusterMethod::embedding;
    options.k = 2;
    TurnClusterer clusterer(test::gemma(), options);
    const ClusteringResult r = clusterer.cluster(ex);
    ASSERT_EQ(r.assignment.size(), ex.turns.size());
    EXPECT_EQ(r.assignment.back(), kSynthesisCluster) << "the combine request is detected";
    EXPECT_EQ(r.k, 2);
    EXPECT_DOUBLE_EQ(r.ari, 1.0);
    // The discovered clusters inherit the labels' ids after matching.
    const Example found = recluster(ex, r.assignment).example;
    for (size_t i = 0; i < ex.turns.size(); ++i) {
        EXPECT_EQ(found.turns[i].cluster, ex.turns[i].cluster) << ex.turns[i].text;
    }
}

TEST(TurnClustering, LlmAnswerAlwaysParsesIntoAnAssignmentAndNames) {
    // The 270M base model is no topic classifier; what must hold is that the grammar makes
    // its answer a complete assignment with a name per topic it used.
    const Example ex = football_and_baking();
    ClusterOptions options;
    options.method = ClusterMethod::llm;
    options.k = 3;
    TurnClusterer clusterer(test::gemma(), options);
    const ClusteringResult r = clusterer.cluster(ex);
    ASSERT_EQ(r.assignment.size(), ex.turns.size());
    EXPECT_EQ(r.assignment.back(), kSynthesisCluster);
    EXPECT_GE(r.k, 1);
    EXPECT_LE(r.k, 3);
    ASSERT_EQ(r.topic_names.size(), static_cast<size_t>(r.k));
    for (const std::string& name : r.topic_names) EXPECT_FALSE(name.empty());
    for (size_t i = 0; i + 1 < r.assignment.size(); ++i) {
        EXPECT_GE(r.assignment[i], 0);
        EXPECT_LT(r.assignment[i], r.k);
    }
}

}  // namespace
}  // namespace rdic
