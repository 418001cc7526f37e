// TF-IDF word vectors of a set of texts (the turns of one conversation): the `lexical`
// clustering method, which needs no model. Pure and deterministic.
//
//   std::vector<std::vector<float>> v = rdic::tfidf_vectors(turn_texts);
//   rdic::DistanceMatrix d = rdic::cosine_distances(v);   // then agglomerative.h
//
// Words: maximal runs of ASCII letters and digits (with inner '-' or '\''), lower-cased, at
// least 2 characters, minus a fixed list of English function words. Weight of word w in text t:
// (1 + ln count(w, t)) * ln((1 + N) / (1 + df(w))), N texts, df = texts containing w; a word in
// every text weighs ~0. Dimensions: the sorted vocabulary of `texts`. A text without any word is
// the zero vector (cosine distance 1 to everything).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rdic {

std::vector<std::string> lexical_words(const std::string& text);
std::vector<std::vector<float>> tfidf_vectors(const std::vector<std::string>& texts);

// Incremental TF-IDF topics for online routing (the `lexical` router): messages arrive one by
// one; similarity() compares a new one with each topic using only what was seen so far. Weight
// of word w: (1 + ln count) * (1 + ln((1 + N) / (1 + df(w)))), N = messages seen plus the new
// one, df counted the same way (the smoothed idf keeps words shared by every message so far: in
// a conversation of two messages a shared word is the evidence, not noise). Similarity with a
// topic: the mean of the cosines with its messages (average linkage; chosen on the dev split,
// docs/routing.md). Cost per call: O(words in the topics). Deterministic; no model.
class IncrementalTfidf {
public:
    // Cosine similarity of `text` with each topic in [0, n_topics()). Changes nothing.
    std::vector<double> similarity(const std::string& text) const;
    // Adds `text` to `topic` (0 <= topic <= n_topics(); n_topics() opens one). Throws
    // invalid_argument for a topic out of range.
    void add(int32_t topic, const std::string& text);
    int32_t n_topics() const { return static_cast<int32_t>(topic_messages_.size()); }

private:
    using Counts = std::map<std::string, int>;
    std::vector<Counts> messages_;                     // word counts per message, in order
    std::vector<std::vector<size_t>> topic_messages_;  // per topic: indices into messages_
    std::map<std::string, int> df_;                    // messages containing each word
};

}  // namespace rdic
