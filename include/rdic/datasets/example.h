// Datasets: multi-topic conversations as native structs, loaded from JSON files.
//
//   rdic::LoadResult r = rdic::load_example("data/test/swe-06.json");
//   if (!r.issues.empty()) for (auto& i : r.issues) std::cerr << i.to_string() << "\n";
//   const rdic::Example& ex = *r.example;          // present unless the file is unusable
//
// Three formats: rdic's own `rdic.dataset/v1` and `rdic.dataset/v2` (v2 adds assistant turns, fact
// questions with lures, shared entities and long variants; docs/dataset.md, JSON Schemas in
// docs/schema/) and the proof of concept's three-cluster format, read as it is. JSON stops at this
// module: everything downstream sees Example. Nothing here throws on bad input; problems are
// returned as Issues, each naming the file, a JSON pointer and what is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rdic {

enum class TurnType { instruction, context, query };
enum class TurnRole { user, assistant };  // v2: an assistant reply already in the conversation
enum class ClusterKind { topic, synthesis };
enum class QuestionKind { topic, cross };

struct Turn {
    int32_t id = 0;
    std::string cluster;  // id of the cluster it belongs to
    TurnType type = TurnType::context;
    std::string text;
    TurnRole role = TurnRole::user;
};

// v2: another topic's value for the same attribute, worded the same way.
struct Lure {
    std::string cluster;               // a topic cluster other than the question's
    std::vector<std::string> answers;  // its value (variants), as in that cluster's turns
};

// v2: a fact question with a short checkable answer. Topic questions are about one topic (the
// prompt builder names the topic; `text` itself is the bare question); cross questions need facts
// from several topics and are answered from each condition's synthesis context.
struct Question {
    std::string id;
    QuestionKind kind = QuestionKind::topic;
    std::string cluster;                // topic questions: the topic cluster asked about
    std::vector<std::string> clusters;  // cross questions: >= 2 topic clusters
    std::string text;
    std::string answer_type;           // number, date, name, code, text
    std::vector<std::string> answers;  // accepted answers (any one counts)
    std::vector<Lure> lures;           // topic questions only; may be empty
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
    std::string split;  // "train", "dev", "test" or "" (unspecified)
    std::string order;  // "block", "interleaved" or ""
    std::string description;
    std::string source_format;  // "rdic.dataset/v1", "rdic.dataset/v2" or "poc"
    std::filesystem::path file;
    std::vector<Cluster> clusters;    // topic clusters first (file order), then synthesis clusters
                                      // in dependency order
    std::vector<Turn> turns;          // conversation order
    std::vector<Question> questions;  // v2 (empty for v1 and POC files)
    std::vector<std::string> shared_entities;  // v2: names that occur in several topics' turns
    std::string variant_of;                    // v2 long variants: the short example's id
    std::string length = "short";              // v2: "short" or "long"

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
// recursively; symlinks to directories are not followed). Each problem is one issue and the rest
// is still listed: a missing path, an entry that cannot be read (a symlink loop, no permission),
// a file name that is not valid UTF-8 (it could not be recorded in results).
std::vector<std::filesystem::path> expand_data_paths(
    const std::vector<std::filesystem::path>& paths, std::vector<Issue>* issues);

std::string_view to_string(TurnType t);
std::string_view to_string(TurnRole r);
std::string_view to_string(QuestionKind k);

}  // namespace rdic
