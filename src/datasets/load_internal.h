// Internals of the dataset loader, shared by load.cpp (file handling, v1 and the proof of
// concept's format, the checks common to all formats) and load_v2.cpp (what rdic.dataset/v2
// adds). Not a public header: only src/datasets/ includes it.
//
// Every reader reports problems through a Reporter as file + JSON pointer + reason and never
// throws for bad input; what could not be read is left at its default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rdic/datasets/example.h"

namespace rdic::dataset_internal {

// ordered_json keeps objects in file order (POC clusters are read in the order written).
using json = nlohmann::ordered_json;

inline constexpr const char* kFormatV1 = "rdic.dataset/v1";
inline constexpr const char* kFormatV2 = "rdic.dataset/v2";
inline constexpr const char* kFormatPoc = "poc";

// JSON pointer of member `key` / element `index` below `base` ("" is the document).
std::string ptr(const std::string& base, const std::string& key);
std::string ptr(const std::string& base, size_t index);

// "a string", "an integer", ... for messages.
std::string type_name(const json& v);

// ASCII lower case.
std::string lower(std::string s);

// Case-insensitive (ASCII) substring test: the canary and shared-entity rule.
bool contains_ci(const std::string& haystack, const std::string& needle);

// Example and question ids: not empty, lowercase ASCII letters, digits and '-'.
bool is_example_id(const std::string& s);
inline constexpr const char* kIdMessage =
    "must be lowercase letters, digits and '-', and not empty";

// Collects the issues of one file.
class Reporter {
public:
    explicit Reporter(std::filesystem::path file) : file_(std::move(file)) {}
    void add(std::string pointer, std::string message) {
        issues_.push_back({file_, std::move(pointer), std::move(message)});
    }
    std::vector<Issue>& issues() { return issues_; }

    // Typed field access: report and return nullopt when missing (if required) or mistyped.
    std::optional<std::string> string(const json& obj, const std::string& base, const char* key,
                                      bool required);
    // An array of strings; elements that are not strings are reported and skipped.
    std::vector<std::string> strings(const json& obj, const std::string& base, const char* key,
                                     bool required);
    // The array `key` of `obj`, or nullptr after reporting it missing (if required) or mistyped.
    const json* array(const json& obj, const std::string& base, const char* key, bool required);

private:
    std::filesystem::path file_;
    std::vector<Issue> issues_;
};

// Where each element came from in the file, for issue pointers.
struct Pointers {
    std::string clusters_root = "/clusters";
    std::map<std::string, std::string> cluster;
    std::map<int32_t, std::string> turn;
    std::map<std::string, std::vector<std::string>> canary;  // per cluster, per canary
};

// Calls fn(element, pointer) for every element of `array` (at `base`) that is an object; reports
// the others.
template <class Fn>
void each_object(const json& array, const std::string& base, Reporter& r, Fn&& fn) {
    for (size_t i = 0; i < array.size(); ++i) {
        const json& e = array[i];
        const std::string at = ptr(base, i);
        if (!e.is_object()) {
            r.add(at, "must be an object, not " + type_name(e));
            continue;
        }
        fn(e, at);
    }
}

// ---- rdic.dataset/v2 (load_v2.cpp) ------------------------------------------------------------

// A native turn's optional `role` (default user). v1 knows only "user"; v2 also "assistant".
void read_turn_role(const json& t, const std::string& base, const std::string& format, Reporter& r,
                    Turn& turn);

// Shared by the native and the POC readers (load.cpp).
std::optional<int32_t> read_turn_id(const json& t, const std::string& base, const char* key,
                                    Reporter& r);
void read_turn_type(const json& t, const std::string& base, bool required, Reporter& r, Turn& turn);
// Records where turn `id` came from; false (and an issue at base/id_key) for a duplicate id.
bool register_turn(int32_t id, const std::string& base, const char* id_key, Pointers& where,
                   Reporter& r);

// The proof of concept's format (load_poc.cpp).
void read_poc(const json& root, Example& ex, Reporter& r, Pointers& where);

// Reads and checks what v2 adds to a native example whose clusters and turns `ex` already holds
// (read by the v1 reader, file order, pointers in `where`): length, variant_of, shared_entities,
// questions, the assistant-turn placement and the cluster-name rule.
void read_v2(const json& root, Example& ex, Reporter& r, const Pointers& where);

}  // namespace rdic::dataset_internal
