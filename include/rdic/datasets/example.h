// Datasets: multi-topic conversations as native structs, loaded from JSON files.
//
//   rdic::LoadResult r = rdic::load_example("data/test/swe-06.json");
//   if (!r.issues.empty()) for (auto& i : r.issues) std::cerr << i.to_string() << "\n";
//   const rdic::Example& ex = *r.example;          // present unless the file is unusable
//
// Two formats: rdic's own `rdic.dataset/v1` (docs/dataset.md, JSON Schema in docs/schema/) and the
// proof of concept's three-cluster format, read as it is. JSON stops at this module: everything
// downstream sees Example. Nothing here throws on bad input; problems are returned as Issues,
// each naming the file, a JSON pointer and what is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rdic {

enum class TurnType { instruction, context, query };
enum class ClusterKind { topic, synthesis };

struct Turn {
    int32_t id = 0;
    std::string cluster;  // id of the cluster it belongs to
    TurnType type = TurnType::context;
    std::string text;
};

struct Cluster {
    std::string id;
    ClusterKind kind = ClusterKind::topic;
    std::string name;                      // human-readable topic name
    std::string task;                      // what the output should be
    std::vector<std::string> terminology;  // topic clusters: distinctive terms
    std::vector<std::string> canaries;     // topic clusters: facts planted only in its turns
    std::vector<std::string> depends_on;   // synthesis clusters: inputs
    std::string reference_output;          // plain text
};

struct Example {
    std::string id;
    std::string domain;
    std::string split;  // "dev", "test" or "" (unspecified)
    std::string order;  // "block", "interleaved" or ""
    std::string description;
    std::string source_format;  // "rdic.dataset/v1" or "poc"
    std::filesystem::path file;
    std::vector<Cluster> clusters;  // topic clusters first (file order), then synthesis clusters
                                    // in dependency order
    std::vector<Turn> turns;        // conversation order

    const Cluster* find(const std::string& cluster_id) const;
    std::vector<const Turn*> turns_of(const std::string& cluster_id) const;
    std::vector<const Cluster*> topics() const;
    std::vector<const Cluster*> syntheses() const;  // dependency order
};

struct Issue {
    std::filesystem::path file;
    std::string pointer;  // JSON pointer (RFC 6901) into the file, "" for the whole file
    std::string message;
    std::string to_string() const;  // "FILE: POINTER: MESSAGE"
};

struct LoadResult {
    std::optional<Example> example;  // absent when the file cannot be read as an example at all
    std::vector<Issue> issues;       // empty when the example is valid
};

struct ValidationOptions {
    // Counts tokens of a text with the model's tokenizer; when set together with max_context,
    // examples whose longest condition context would not fit are reported.
    std::function<int64_t(const std::string&)> count_tokens;
    int64_t max_context = 0;
};

// Reads and validates one file. Never throws for bad input (malformed JSON, invalid UTF-8,
// wrong types, huge files are all reported as issues).
LoadResult load_example(const std::filesystem::path& file, const ValidationOptions& options = {});

// Files named by `paths`: files as given, directories expanded to their *.json files (sorted,
// recursively). Missing paths are reported as issues.
std::vector<std::filesystem::path> expand_data_paths(
    const std::vector<std::filesystem::path>& paths, std::vector<Issue>* issues);

std::string_view to_string(TurnType t);

}  // namespace rdic
