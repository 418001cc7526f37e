// The shipped splits are separate: data/README.md says the train split's writers read a few dev
// files for style and never the test split, and dev is for choosing while test is for
// measuring. Checked here by the passages they share: runs of 8 words (lexical_words, the
// routers' word splitter, which drops stop words) common to a conversation of one split and one
// of another. Today no pair shares one; a copied test message shares at least 6 (the shortest
// has 13 such words, the median 32).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rdic/clustering/lexical.h"
#include "rdic/datasets/example.h"

namespace {

namespace fs = std::filesystem;
const fs::path kData = RDIC_DATA_DIR;
constexpr size_t kRun = 8;

// Conversation id -> its 8-word runs, over every turn of every file of the split.
std::map<std::string, std::set<std::string>> runs_of(const std::string& split) {
    std::vector<rdic::Issue> issues;
    std::map<std::string, std::set<std::string>> out;
    for (const fs::path& f : rdic::expand_data_paths({kData / split}, &issues)) {
        const rdic::LoadResult r = rdic::load_example(f);
        EXPECT_TRUE(r.example.has_value()) << f;
        if (!r.example) continue;
        std::set<std::string>& runs = out[r.example->id];
        for (const rdic::Turn& t : r.example->turns) {
            const std::vector<std::string> w = rdic::lexical_words(t.text);
            for (size_t i = 0; i + kRun <= w.size(); ++i) {
                std::string run;
                for (size_t k = i; k < i + kRun; ++k) run += (k > i ? " " : "") + w[k];
                runs.insert(run);
            }
        }
    }
    EXPECT_TRUE(issues.empty()) << split;
    return out;
}

// The most runs one conversation of `a` shares with one of `b`, and which pair.
size_t most_shared(const std::map<std::string, std::set<std::string>>& a,
                   const std::map<std::string, std::set<std::string>>& b, std::string* pair) {
    size_t most = 0;
    for (const auto& [ia, ra] : a) {
        for (const auto& [ib, rb] : b) {
            size_t n = 0;
            for (const std::string& r : ra) n += rb.count(r);
            if (n > most) {
                most = n;
                *pair = ia + " and " + ib;
            }
        }
    }
    return most;
}

TEST(ShippedSplits, NoConversationSharesAPassageWithAnotherSplit) {
    const auto train = runs_of("train");
    const auto dev = runs_of("dev");
    const auto test = runs_of("test");
    ASSERT_GE(train.size(), 100u);
    ASSERT_GE(dev.size(), 25u);
    ASSERT_GE(test.size(), 25u);
    for (const auto& [id, runs] : train) {
        EXPECT_EQ(dev.count(id) + test.count(id), 0u) << id << " is in two splits";
    }
    // Two runs are left to chance (a set phrase); a copied message has at least 6.
    std::string pair;
    EXPECT_LE(most_shared(train, test, &pair), 2u) << pair;
    EXPECT_LE(most_shared(train, dev, &pair), 2u) << pair;
    EXPECT_LE(most_shared(dev, test, &pair), 2u) << pair;
}

}  // namespace
