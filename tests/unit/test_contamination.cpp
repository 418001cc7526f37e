// Contamination metrics on constructed text with known answers.
#include <gtest/gtest.h>

#include "rdic/evaluation/contamination.h"

namespace rdic {
namespace {

TEST(CountTerm, WholeWordsCaseInsensitive) {
    EXPECT_EQ(count_term("The Index and the index; INDEX!", "index"), 3);
    EXPECT_EQ(count_term("indexing reindex indexes", "index"), 0);
    EXPECT_EQ(count_term("index-only scan", "index"), 1);  // '-' is a boundary
    EXPECT_EQ(count_term("", "index"), 0);
    EXPECT_EQ(count_term("anything", ""), 0);
}

TEST(CountTerm, MultiWordTermsAcrossWhitespace) {
    EXPECT_EQ(count_term("the replication\n  lag grew; Replication lag again", "replication lag"),
              2);
    EXPECT_EQ(count_term("replication lagging", "replication lag"), 0);
}

TEST(CountTerm, PunctuationInTermsAndNonAscii) {
    EXPECT_EQ(count_term("we use C++ and C++20", "C++"), 2);  // ends in '+': no right boundary
    EXPECT_EQ(count_term("ticket DBM-4471 closed (DBM-4471)", "DBM-4471"), 2);
    EXPECT_EQ(count_term("Grünwald and Grünwaldt", "Grünwald"), 1);  // 't' continues the word
    EXPECT_EQ(count_term("naïve", "na"), 0);  // a non-ASCII byte is part of the word
}

TEST(CountWords, Whitespace) {
    EXPECT_EQ(count_words("  one two\nthree\t\tfour "), 4);
    EXPECT_EQ(count_words(""), 0);
}

Example two_topics() {
    Example ex;
    ex.id = "x";
    Cluster db;
    db.id = "db";
    db.terminology = {"index", "replication lag", "vacuum"};
    db.canaries = {"DBM-4471"};
    Cluster hr;
    hr.id = "hr";
    hr.terminology = {"candidate", "offer letter"};
    hr.canaries = {"Imelda Varga"};
    Cluster s;
    s.id = "s";
    s.kind = ClusterKind::synthesis;
    s.depends_on = {"db", "hr"};
    ex.clusters = {db, hr, s};
    return ex;
}

TEST(EvaluateOutput, TopicOutputCountsOwnAndForeignTermsAndCanaries) {
    const Example ex = two_topics();
    const std::string text =
        "Add an index and watch replication lag (ticket DBM-4471). Also the candidate Imelda "
        "Varga needs an offer letter.";
    const OutputMetrics m = evaluate_output(ex, "db", text);
    EXPECT_EQ(m.kind, ClusterKind::topic);
    EXPECT_EQ(m.n_words, 18);
    EXPECT_EQ(m.own_hits, 2);
    EXPECT_DOUBLE_EQ(m.own_term_coverage, 2.0 / 3.0);
    EXPECT_EQ(m.foreign_hits, 2);
    EXPECT_EQ(m.foreign_hits_by_cluster.at("hr"), 2);
    EXPECT_DOUBLE_EQ(m.foreign_per_100_words, 100.0 * 2 / 18);
    EXPECT_DOUBLE_EQ(m.foreign_share, 0.5);
    EXPECT_EQ(m.own_canaries, (std::vector<std::string>{"DBM-4471"}));
    EXPECT_EQ(m.leaked_canaries, (std::vector<std::string>{"Imelda Varga"}));
}

TEST(EvaluateOutput, CleanOutputHasNoContamination) {
    const OutputMetrics m = evaluate_output(two_topics(), "hr", "Send the offer letter today.");
    EXPECT_EQ(m.foreign_hits, 0);
    EXPECT_DOUBLE_EQ(m.foreign_share, 0.0);
    EXPECT_TRUE(m.leaked_canaries.empty());
    EXPECT_DOUBLE_EQ(m.own_term_coverage, 0.5);
}

TEST(EvaluateOutput, SynthesisCoverageOfEachTopic) {
    const OutputMetrics m =
        evaluate_output(two_topics(), "s", "Vacuum the tables; hire the candidate Imelda Varga.");
    EXPECT_EQ(m.kind, ClusterKind::synthesis);
    EXPECT_EQ(m.foreign_hits, 0) << "a synthesis output has no foreign topic";
    EXPECT_DOUBLE_EQ(m.topic_term_coverage.at("db"), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(m.topic_term_coverage.at("hr"), 0.5);
    EXPECT_DOUBLE_EQ(m.topic_canary_coverage.at("db"), 0.0);
    EXPECT_DOUBLE_EQ(m.topic_canary_coverage.at("hr"), 1.0);
}

TEST(EvaluateOutput, UnknownClusterGivesEmptyMetrics) {
    const OutputMetrics m = evaluate_output(two_topics(), "nope", "index");
    EXPECT_EQ(m.n_words, 0);
    EXPECT_EQ(m.own_hits, 0);
}

}  // namespace
}  // namespace rdic
