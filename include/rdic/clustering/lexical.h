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

#include <string>
#include <vector>

namespace rdic {

std::vector<std::string> lexical_words(const std::string& text);
std::vector<std::vector<float>> tfidf_vectors(const std::vector<std::string>& texts);

}  // namespace rdic
