// Clustering algorithms on constructed data with known answers: ARI/NMI (reference values from a
// hand-written numpy computation of the formulas), average linkage and silhouette (merge heights
// from scipy.cluster.hierarchy.linkage(method='average', metric='cosine')), the online router,
// the synthesis-turn detector, the controls, and matching/re-clustering of an Example.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "rdic/clustering/agglomerative.h"
#include "rdic/clustering/assignment.h"
#include "rdic/clustering/lexical.h"
#include "rdic/clustering/metrics.h"
#include "rdic/clustering/router.h"
#include "rdic/clustering/synthesis_detector.h"
#include "rdic/error.h"

namespace rdic {
namespace {

using Labels = std::vector<int32_t>;

// ---- ARI / NMI ---------------------------------------------------------------------------------

struct MetricCase {
    Labels truth, found;
    double ari, nmi;
};

class PartitionMetrics : public ::testing::TestWithParam<MetricCase> {};

TEST_P(PartitionMetrics, MatchReferenceValues) {
    const MetricCase& c = GetParam();
    EXPECT_NEAR(adjusted_rand_index(c.truth, c.found), c.ari, 1e-12);
    EXPECT_NEAR(normalized_mutual_info(c.truth, c.found), c.nmi, 1e-12);
    // Both are symmetric in their arguments.
    EXPECT_NEAR(adjusted_rand_index(c.found, c.truth), c.ari, 1e-12);
    EXPECT_NEAR(normalized_mutual_info(c.found, c.truth), c.nmi, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    Known, PartitionMetrics,
    ::testing::Values(
        MetricCase{{0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2}, 0.242424242424242, 0.515803742979389},
        MetricCase{{0, 0, 1, 1}, {0, 0, 1, 2}, 0.571428571428572, 0.8},
        MetricCase{{0, 0, 1, 1, 2, 2, 2}, {1, 1, 0, 0, 0, 2, 2}, 0.475, 0.747179095066262},
        // Interleaved truth vs positional blocks: worse than chance, no information.
        MetricCase{{0, 1, 2, 0, 1, 2, 0, 1, 2}, {0, 0, 0, 1, 1, 1, 2, 2, 2}, -1.0 / 3, 0.0},
        MetricCase{{0, 0, 0, 0, 1, 1, 1, 2, 2, 3},
                   {0, 0, 1, 1, 1, 2, 2, 2, 3, 3},
                   0.169230769230769,
                   0.573932378775652}));

TEST(PartitionMetrics, RenamingClustersChangesNothing) {
    const Labels truth = {0, 0, 1, 1, 2, 2};
    EXPECT_DOUBLE_EQ(adjusted_rand_index(truth, {7, 7, -1, -1, 40, 40}), 1.0);
    EXPECT_DOUBLE_EQ(normalized_mutual_info(truth, {7, 7, -1, -1, 40, 40}), 1.0);
}

TEST(PartitionMetrics, DegenerateCases) {
    EXPECT_DOUBLE_EQ(adjusted_rand_index({0, 0, 0}, {1, 1, 1}), 1.0);  // both one cluster
    EXPECT_DOUBLE_EQ(adjusted_rand_index({0, 1, 2}, {5, 6, 7}), 1.0);  // both singletons
    EXPECT_DOUBLE_EQ(normalized_mutual_info({0, 0, 0}, {1, 1, 1}), 1.0);
    EXPECT_DOUBLE_EQ(adjusted_rand_index({}, {}), 1.0);
    // One cluster against a real split: no agreement beyond chance, no information.
    EXPECT_DOUBLE_EQ(adjusted_rand_index({0, 0, 1, 1}, {0, 0, 0, 0}), 0.0);
    EXPECT_DOUBLE_EQ(normalized_mutual_info({0, 0, 1, 1}, {0, 0, 0, 0}), 0.0);
    EXPECT_THROW(adjusted_rand_index({0, 1}, {0}), Error);
    EXPECT_THROW(normalized_mutual_info({0}, {0, 1}), Error);
}

// ---- agglomerative clustering -------------------------------------------------------------------

// Nine 4-d points; reference dendrogram from scipy (see the file comment).
const std::vector<std::vector<float>> kPoints = {
    {0.0f, 0.3f, -0.27f, -0.89f},    {-0.45f, -0.99f, 0.06f, 1.34f},
    {-0.49f, -0.62f, 0.49f, 0.36f},  {0.11f, -0.93f, -0.03f, 0.7f},
    {-1.34f, -0.46f, -1.9f, -1.29f}, {-1.84f, -0.24f, -1.27f, 0.27f},
    {0.16f, -0.19f, -2.52f, -0.54f}, {-0.05f, 0.11f, -1.53f, -0.48f},
    {-0.98f, -0.81f, 1.06f, -0.81f}};

TEST(Agglomerative, AverageLinkageMatchesScipy) {
    const Dendrogram tree = average_linkage(cosine_distances(kPoints));
    const std::vector<double> heights = {0.018648513033, 0.105072511636, 0.208368394971,
                                         0.283243664954, 0.41537958236,  0.604133865482,
                                         0.750083831404, 1.228605078542};
    const std::vector<std::pair<int32_t, int32_t>> merges = {{6, 7},  {1, 3},  {4, 9},  {2, 10},
                                                             {5, 11}, {0, 13}, {8, 12}, {14, 15}};
    const std::vector<int32_t> sizes = {2, 2, 3, 3, 4, 5, 4, 9};
    ASSERT_EQ(tree.merges.size(), 8u);
    for (size_t i = 0; i < 8; ++i) {
        SCOPED_TRACE(i);
        EXPECT_NEAR(tree.merges[i].distance, heights[i], 1e-6);  // float input, double math
        EXPECT_EQ(tree.merges[i].a, merges[i].first);
        EXPECT_EQ(tree.merges[i].b, merges[i].second);
        EXPECT_EQ(tree.merges[i].size, sizes[i]);
    }
}

TEST(Agglomerative, CutsMatchScipyFclusterUpToNames) {
    const Dendrogram tree = average_linkage(cosine_distances(kPoints));
    // scipy fcluster(maxclust): k=2 [1,2,2,2,1,1,1,1,2], k=3 [...,3], k=4 [2,3,3,3,1,1,1,1,4];
    // ours number clusters by first item, so compare with ARI = 1.
    EXPECT_EQ(cut(tree, 2), (Labels{0, 1, 1, 1, 0, 0, 0, 0, 1}));
    EXPECT_EQ(cut(tree, 3), (Labels{0, 1, 1, 1, 0, 0, 0, 0, 2}));
    EXPECT_EQ(cut(tree, 4), (Labels{0, 1, 1, 1, 2, 2, 2, 2, 3}));
    EXPECT_EQ(cut(tree, 1), Labels(9, 0));
    EXPECT_EQ(cut(tree, 9), (Labels{0, 1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_THROW(cut(tree, 0), Error);
    EXPECT_THROW(cut(tree, 10), Error);
}

TEST(Agglomerative, SilhouetteMatchesHandComputationAndChoosesBestK) {
    const DistanceMatrix d = cosine_distances(kPoints);
    const Dendrogram tree = average_linkage(d);
    EXPECT_NEAR(silhouette(d, cut(tree, 2)), 0.620260228941, 1e-6);
    EXPECT_NEAR(silhouette(d, cut(tree, 3)), 0.508911399706, 1e-6);
    EXPECT_NEAR(silhouette(d, cut(tree, 4)), 0.415422098277, 1e-6);
    const KChoice c = choose_k_by_silhouette(d, tree, 2, 4);
    EXPECT_EQ(c.k, 2);
    ASSERT_EQ(c.scores.size(), 3u);
    EXPECT_NEAR(c.score, 0.620260228941, 1e-6);
    EXPECT_DOUBLE_EQ(silhouette(d, Labels(9, 0)), 0.0);  // one cluster: undefined -> 0
    EXPECT_THROW(choose_k_by_silhouette(d, tree, 1, 4), Error);
}

// Three well-separated topics along three axes, three noisy members each, interleaved.
std::vector<std::vector<float>> three_topics() {
    std::vector<std::vector<float>> v;
    for (int i = 0; i < 9; ++i) {
        std::vector<float> x(6, 0.05f * static_cast<float>(i % 4));
        x[i % 3] = 1.0f;
        x[3 + (i % 3)] = 0.3f + 0.1f * static_cast<float>(i / 3);
        v.push_back(x);
    }
    return v;
}

TEST(Agglomerative, RecoversSeparatedTopicsAndTheirNumber) {
    const auto v = three_topics();
    const DistanceMatrix d = cosine_distances(v);
    const Dendrogram tree = average_linkage(d);
    const KChoice c = choose_k_by_silhouette(d, tree, 2, 8);
    EXPECT_EQ(c.k, 3);
    EXPECT_DOUBLE_EQ(adjusted_rand_index(cut(tree, c.k), Labels{0, 1, 2, 0, 1, 2, 0, 1, 2}), 1.0);
}

TEST(Agglomerative, TiesAreBrokenByIndexSoResultsAreDeterministic) {
    // Four identical vectors and two others: every distance within the group is 0.
    std::vector<std::vector<float>> v(4, {1.0f, 0.0f});
    v.push_back({0.0f, 1.0f});
    v.push_back({0.0f, 1.0f});
    const Dendrogram tree = average_linkage(cosine_distances(v));
    EXPECT_EQ(tree.merges[0].a, 0);
    EXPECT_EQ(tree.merges[0].b, 1);
    EXPECT_EQ(cut(tree, 2), (Labels{0, 0, 0, 0, 1, 1}));
}

TEST(Agglomerative, SmallInputs) {
    EXPECT_TRUE(average_linkage(cosine_distances({})).merges.empty());
    EXPECT_TRUE(cut(average_linkage(cosine_distances({})), 3).empty());
    const DistanceMatrix two = cosine_distances({{1.0f, 0.0f}, {0.0f, 1.0f}});
    const KChoice c = choose_k_by_silhouette(two, average_linkage(two), 2, 8);
    EXPECT_EQ(c.k, 2);  // nothing to compare: every item alone
    EXPECT_THROW(cosine_distances({{1.0f}, {1.0f, 2.0f}}), Error);
    EXPECT_DOUBLE_EQ(cosine_distance(std::vector<float>{0, 0}, std::vector<float>{1, 0}), 1.0);
    EXPECT_NEAR(cosine_distance(std::vector<float>{1, 0}, std::vector<float>{-1, 0}), 2.0, 1e-12);
}

// ---- lexical vectors ----------------------------------------------------------------------------

TEST(Lexical, WordsAndTfidfWeights) {
    EXPECT_EQ(lexical_words("The B-tree's index, re-index; I'm OK x 42"),
              (std::vector<std::string>{"b-tree's", "index", "re-index", "ok", "42"}));
    const auto v = tfidf_vectors({"Index index rebuild", "rota rebuild", "the"});
    ASSERT_EQ(v.size(), 3u);
    ASSERT_EQ(v[0].size(), 3u);  // index, rebuild, rota
    const double ln2 = std::log(2.0), ln43 = std::log(4.0 / 3.0);
    EXPECT_NEAR(v[0][0], (1 + ln2) * ln2, 1e-6);  // twice in one of three texts
    EXPECT_NEAR(v[0][1], ln43, 1e-6);             // once, in two texts
    EXPECT_FLOAT_EQ(v[0][2], 0.0f);
    EXPECT_NEAR(v[1][2], ln2, 1e-6);
    EXPECT_EQ(v[2], std::vector<float>(3, 0.0f));  // only a stop word
    // Shared vocabulary makes texts near; the clustering separates the two topics.
    const auto t = tfidf_vectors({"replication lag on the primary database", "on-call rota pager",
                                  "database replication failover", "pager alerts on-call",
                                  "primary database failover lag", "rota swap pager"});
    const Dendrogram tree = average_linkage(cosine_distances(t));
    EXPECT_EQ(cut(tree, 2), (Labels{0, 1, 0, 1, 0, 1}));
}

// ---- online routing ----------------------------------------------------------------------------

TEST(OnlineRouter, JoinsNearestOrOpensBeyondThreshold) {
    OnlineRouter router(3, {.new_cluster_distance = 0.3});
    const std::vector<float> a = {1, 0, 0}, a2 = {0.9f, 0.1f, 0}, b = {0, 1, 0}, c = {0, 0, 1};
    RouteDecision r = router.add(a);
    EXPECT_TRUE(r.opened);
    EXPECT_EQ(r.cluster, 0);
    r = router.add(b);
    EXPECT_TRUE(r.opened);
    EXPECT_EQ(r.cluster, 1);
    EXPECT_NEAR(r.nearest, 1.0, 1e-9);  // orthogonal to cluster 0
    r = router.add(a2);
    EXPECT_FALSE(r.opened);
    EXPECT_EQ(r.cluster, 0);
    EXPECT_LT(r.distance, 0.3);
    EXPECT_EQ(router.size(0), 2);
    // route() only looks.
    const RouteDecision look = router.route(c);
    EXPECT_TRUE(look.opened);
    EXPECT_EQ(look.cluster, 2);
    EXPECT_EQ(router.n_clusters(), 2);
}

TEST(OnlineRouter, SeededClustersAndCentroidsMove) {
    // Seeded with two known clusters; a turn between them goes to the nearer centroid, and the
    // centroid is the mean of normalised members (a long vector does not dominate).
    OnlineRouter router(2, {.new_cluster_distance = 2.0});
    router.assign(0, std::vector<float>{100.0f, 0.0f});
    router.assign(0, std::vector<float>{0.0f, 1.0f});  // centroid of cluster 0 at 45 degrees
    router.assign(1, std::vector<float>{0.2f, 1.0f});
    const RouteDecision r = router.route(std::vector<float>{1.0f, 0.9f});
    EXPECT_EQ(r.cluster, 0);
    EXPECT_FALSE(r.opened);
    EXPECT_THROW(router.assign(3, std::vector<float>{1, 0}), Error);
    EXPECT_THROW(router.route(std::vector<float>{1, 0, 0}), Error);
    EXPECT_THROW(OnlineRouter(2, {.new_cluster_distance = 3.0}), Error);
}

TEST(OnlineRouter, DistancesToEveryCentroidMatchRoute) {
    OnlineRouter router(2, {.new_cluster_distance = 0.5});
    const float a[] = {1, 0}, b[] = {0, 1}, v[] = {1, 1};
    router.assign(0, a);
    router.assign(1, b);
    const std::vector<double> d = router.distances(v);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_NEAR(d[0], 1 - std::sqrt(0.5), 1e-12);
    EXPECT_NEAR(d[1], d[0], 1e-12);
    EXPECT_NEAR(router.route(v).distance, d[0], 1e-12);
    const float wrong[] = {1, 0, 0};
    EXPECT_THROW(router.distances(wrong), Error);
}

TEST(OnlineRouter, MaxClustersForcesNearest) {
    OnlineRouter router(2, {.new_cluster_distance = 0.1, .max_clusters = 1});
    router.add(std::vector<float>{1, 0});
    const RouteDecision r = router.add(std::vector<float>{0, 1});
    EXPECT_FALSE(r.opened);
    EXPECT_EQ(r.cluster, 0);
    EXPECT_EQ(router.n_clusters(), 1);
}

// ---- synthesis-turn detection
// --------------------------------------------------------------------

TEST(SynthesisDetector, CombiningRequestsAndFollowUps) {
    const std::vector<std::string> turns = {
        "I've got four things on my plate this week, starting with the lab incident.",
        "Second, the accreditation visit is on 3 March and we need all the sample scripts.",
        "Those two machines were put together in 2019.",  // "together" without a plural
        "Now combine all four into one report for the Dean.",
        "Close the report with the decisions we need.",
        "Please write that combined update: a paragraph on each area."};
    const auto cues = detect_synthesis_turns(turns);
    ASSERT_EQ(cues.size(), turns.size());
    EXPECT_FALSE(cues[0].is_synthesis);
    EXPECT_FALSE(cues[1].is_synthesis) << "'all' alone is not a combining request";
    EXPECT_FALSE(cues[2].is_synthesis);
    EXPECT_TRUE(cues[3].is_synthesis);
    EXPECT_EQ(cues[3].rule, "combine");
    EXPECT_TRUE(cues[4].is_synthesis);
    EXPECT_EQ(cues[4].rule, "follow-up");
    EXPECT_TRUE(cues[5].is_synthesis);
}

TEST(SynthesisDetector, Phrasings) {
    EXPECT_TRUE(
        detect_synthesis_turn("Pull everything together into one briefing.", false).is_synthesis);
    EXPECT_TRUE(
        detect_synthesis_turn("Now BRING the three workstreams together.", false).is_synthesis);
    EXPECT_TRUE(
        detect_synthesis_turn("Please integrate both topics into a plan.", false).is_synthesis);
    const SynthesisCue doc = detect_synthesis_turn(
        "Thank you, that's all four. The committee wants one report from me.", false);
    EXPECT_TRUE(doc.is_synthesis);
    EXPECT_EQ(doc.rule, "document");
    // Follow-up cues count only right after a synthesis turn.
    EXPECT_FALSE(
        detect_synthesis_turn("Also add a short section on the risks.", false).is_synthesis);
    EXPECT_TRUE(detect_synthesis_turn("Also add a short section on the risks.", true).is_synthesis);
    // Product names and single-topic uses of the words.
    EXPECT_FALSE(
        detect_synthesis_turn("Pine Hollow Unified has three schools.", false).is_synthesis);
    EXPECT_FALSE(detect_synthesis_turn("Cases and screen protectors sell together; put each "
                                       "next to the other.",
                                       false)
                     .is_synthesis);
    EXPECT_FALSE(detect_synthesis_turn("", true).is_synthesis);
}

// ---- controls, matching, re-clustering ---------------------------------------------------------

Cluster make_cluster(std::string id, ClusterKind kind, std::string reference,
                     std::vector<std::string> depends_on = {}) {
    Cluster c;
    c.id = std::move(id);
    c.kind = kind;
    c.name = c.id + " name";
    if (kind == ClusterKind::topic) c.terminology = {c.id + " term"};
    c.reference_output = std::move(reference);
    c.depends_on = std::move(depends_on);
    return c;
}

Example two_topic_example() {
    Example ex;
    ex.id = "ex";
    ex.clusters = {make_cluster("db", ClusterKind::topic, "db ref"),
                   make_cluster("ops", ClusterKind::topic, "ops ref"),
                   make_cluster("sum", ClusterKind::synthesis, "", {"db", "ops"})};
    const char* labels[] = {"db", "ops", "db", "ops", "db", "ops", "sum"};
    for (int i = 0; i < 7; ++i) ex.turns.push_back({i + 1, labels[i], TurnType::context, "t"});
    return ex;
}

TEST(Controls, LabelAssignment) {
    EXPECT_EQ(label_assignment(two_topic_example()), (Labels{0, 1, 0, 1, 0, 1, kSynthesisCluster}));
}

TEST(Controls, RandomKeepsSizesAndIsSeeded) {
    const Example ex = two_topic_example();
    const Labels a = random_assignment(ex, 1), b = random_assignment(ex, 1);
    EXPECT_EQ(a, b);
    std::map<int32_t, int> sizes;
    for (int32_t x : a) ++sizes[x];
    std::multiset<int> got;
    for (auto& [k, n] : sizes) {
        EXPECT_GE(k, 0);
        got.insert(n);
    }
    EXPECT_EQ(got, (std::multiset<int>{1, 3, 3}));
    // Different seeds give different shuffles (for this example at least one of ten differs).
    bool differs = false;
    for (uint64_t s = 2; s < 12; ++s) differs |= random_assignment(ex, s) != a;
    EXPECT_TRUE(differs);
}

TEST(Controls, PositionalBlocks) {
    EXPECT_EQ(positional_assignment(7, 3), (Labels{0, 0, 0, 1, 1, 2, 2}));
    EXPECT_EQ(positional_assignment(2, 5), (Labels{0, 1}));
    EXPECT_TRUE(positional_assignment(0, 2).empty());
    EXPECT_THROW(positional_assignment(3, 0), Error);
}

TEST(Matching, MaximisesTotalOverlapNotGreedy) {
    // Greedy (row 0 takes its best column 0 = 5) would total 5 + 1 = 6; optimal is 4 + 4 = 8.
    EXPECT_EQ(match_clusters({{5, 4}, {4, 1}}), (Labels{1, 0}));
    // More rows than columns: the weakest stays unmatched; zero overlap never matches.
    EXPECT_EQ(match_clusters({{3, 0}, {0, 2}, {1, 0}}), (Labels{0, 1, -1}));
    EXPECT_EQ(match_clusters({{0, 0}}), (Labels{-1}));
    EXPECT_TRUE(match_clusters({}).empty());
    EXPECT_THROW(match_clusters({std::vector<int32_t>(17, 1)}), Error);
}

TEST(Recluster, PerfectClusteringReproducesTheLabels) {
    const Example ex = two_topic_example();
    const Reclustered r = recluster(ex, {4, 9, 4, 9, 4, 9, kSynthesisCluster});
    for (size_t i = 0; i < ex.turns.size(); ++i)
        EXPECT_EQ(r.example.turns[i].cluster, ex.turns[i].cluster);
    ASSERT_EQ(r.example.clusters.size(), 3u);
    EXPECT_EQ(r.example.clusters[0].reference_output, "db ref");
    EXPECT_EQ(r.example.clusters[2].depends_on, (std::vector<std::string>{"db", "ops"}));
    EXPECT_EQ(r.found_ids, (Labels{4, 9}));
    EXPECT_EQ(r.cluster_of_found, (std::vector<std::string>{"db", "ops"}));
}

TEST(Recluster, ExtraClusterIsNewAndMissedSynthesisIsMatched) {
    const Example ex = two_topic_example();
    // Three discovered topics (the second splits "ops"), and the synthesis turn not detected but
    // alone in cluster 7: it matches the synthesis label.
    const Reclustered r = recluster(ex, {0, 1, 0, 2, 0, 1, 7});
    EXPECT_EQ(r.example.turns[0].cluster, "db");
    EXPECT_EQ(r.example.turns[1].cluster, "ops");
    EXPECT_EQ(r.example.turns[3].cluster, "found-3");
    EXPECT_EQ(r.example.turns[6].cluster, "sum");
    const Cluster* extra = r.example.find("found-3");
    ASSERT_NE(extra, nullptr);
    EXPECT_EQ(extra->kind, ClusterKind::topic);
    EXPECT_TRUE(extra->reference_output.empty());
    EXPECT_TRUE(extra->terminology.empty());
    EXPECT_EQ(r.example.find("sum")->depends_on,
              (std::vector<std::string>{"db", "ops", "found-3"}));
    EXPECT_EQ(r.example.topics().size(), 3u);
}

TEST(Recluster, OneClusterForEverythingDropsTheUnmatchedTopic) {
    const Example ex = two_topic_example();
    const Reclustered r = recluster(ex, {0, 0, 0, 0, 0, 0, 0});
    // All seven turns in one cluster: it matches "db" or "ops" (3 each; the lower column wins);
    // "ops" and the synthesis keep no turns; the synthesis is kept, "ops" dropped.
    EXPECT_EQ(r.example.topics().size(), 1u);
    EXPECT_EQ(r.example.topics()[0]->id, "db");
    EXPECT_NE(r.example.find("sum"), nullptr);
    EXPECT_TRUE(r.example.turns_of("sum").empty());
    EXPECT_EQ(r.example.find("ops"), nullptr);
    EXPECT_THROW(recluster(ex, {0, 1}), Error);
}

}  // namespace
}  // namespace rdic
