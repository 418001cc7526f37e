// JSON -> Example for every dataset format, with every problem reported as file + JSON pointer.
// What rdic.dataset/v2 adds to v1 is read and checked in load_v2.cpp.
#include <algorithm>
#include <climits>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "load_internal.h"
#include "rdic/datasets/example.h"
#include "rdic/json_pointer.h"
#include "rdic/printable.h"
#include "rdic/text_stream.h"
#include "strict_json.h"

namespace rdic {

namespace dataset_internal {

std::string ptr(const std::string& base, const std::string& key) {
    return base + "/" + json_pointer_token(key);
}
std::string ptr(const std::string& base, size_t index) {
    return base + "/" + std::to_string(index);
}

std::string type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "an integer";
        case json::value_t::number_float:
            return "a number";
        case json::value_t::string:
            return "a string";
        case json::value_t::array:
            return "an array";
        case json::value_t::object:
            return "an object";
        default:
            return "an unknown value";
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool contains_ci(const std::string& haystack, const std::string& needle) {
    return lower(haystack).find(lower(needle)) != std::string::npos;
}

bool is_example_id(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::optional<std::string> Reporter::string(const json& obj, const std::string& base,
                                            const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) add(ptr(base, key), "is missing");
        return std::nullopt;
    }
    if (!it->is_string()) {
        add(ptr(base, key), "must be a string, not " + type_name(*it));
        return std::nullopt;
    }
    return it->get<std::string>();
}

std::vector<std::string> Reporter::strings(const json& obj, const std::string& base,
                                           const char* key, bool required) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) add(ptr(base, key), "is missing");
        return out;
    }
    if (!it->is_array()) {
        add(ptr(base, key), "must be an array of strings, not " + type_name(*it));
        return out;
    }
    for (size_t i = 0; i < it->size(); ++i) {
        const json& v = (*it)[i];
        if (!v.is_string()) {
            add(ptr(ptr(base, key), i), "must be a string, not " + type_name(v));
            continue;
        }
        out.push_back(v.get<std::string>());
    }
    return out;
}

const json* Reporter::array(const json& obj, const std::string& base, const char* key,
                            bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) add(ptr(base, key), "is missing");
        return nullptr;
    }
    if (!it->is_array()) {
        add(ptr(base, key), "must be an array, not " + type_name(*it));
        return nullptr;
    }
    return &*it;
}

namespace {

constexpr uint64_t kMaxFileBytes = uint64_t{64} << 20;

std::optional<TurnType> parse_turn_type(const std::string& s) {
    if (s == "instruction") return TurnType::instruction;
    if (s == "context") return TurnType::context;
    if (s == "query") return TurnType::query;
    return std::nullopt;
}

// Deepest nesting of arrays/objects in JSON text (strings skipped), stopping past `limit`.
// Deep nesting is refused before parsing: copying a deeply nested value recurses.
size_t nesting_depth(const std::string& text, size_t limit) {
    size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) break;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

constexpr size_t kMaxNesting = 256;

}  // namespace

std::optional<int32_t> read_turn_id(const json& t, const std::string& base, const char* key,
                                    Reporter& r) {
    const auto id = t.find(key);
    if (id == t.end()) {
        r.add(ptr(base, key), "is missing");
        return std::nullopt;
    }
    if (!id->is_number_integer()) {
        r.add(ptr(base, key), "must be an integer");
        return std::nullopt;
    }
    const auto v = id->get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX ||
        (id->is_number_unsigned() && id->get<uint64_t>() > INT32_MAX)) {
        r.add(ptr(base, key), "is out of range");
        return std::nullopt;
    }
    return static_cast<int32_t>(v);
}

void read_turn_type(const json& t, const std::string& base, bool required, Reporter& r,
                    Turn& turn) {
    if (auto v = r.string(t, base, "type", required)) {
        if (auto tt = parse_turn_type(*v))
            turn.type = *tt;
        else
            r.add(ptr(base, "type"), "must be \"instruction\", \"context\" or \"query\"");
    }
}

// Records where turn `id` came from; false (and an issue at base/id_key) for a duplicate id.
bool register_turn(int32_t id, const std::string& base, const char* id_key, Pointers& where,
                   Reporter& r) {
    if (where.turn.count(id)) {
        r.add(ptr(base, id_key), "duplicate turn id " + std::to_string(id));
        return false;
    }
    where.turn[id] = base;
    return true;
}

namespace {

// ---- native format (v1, and what v2 shares with it) --------------------------------------------

void read_native(const json& root, const std::string& format, Example& ex, Reporter& r,
                 Pointers& where) {
    auto& cluster_ptr = where.cluster;
    ex.source_format = format;
    if (auto v = r.string(root, "", "id", true)) {
        ex.id = *v;
        if (!is_example_id(*v)) r.add("/id", kIdMessage);
    }
    if (auto v = r.string(root, "", "domain", true)) ex.domain = *v;
    if (auto v = r.string(root, "", "description", false)) ex.description = *v;
    if (auto v = r.string(root, "", "split", false)) {
        ex.split = *v;
        if (ex.split != "train" && ex.split != "dev" && ex.split != "test") {
            r.add("/split", "must be \"train\", \"dev\" or \"test\"");
        }
    }
    if (auto v = r.string(root, "", "order", false)) {
        ex.order = *v;
        if (ex.order != "block" && ex.order != "interleaved") {
            r.add("/order", "must be \"block\" or \"interleaved\"");
        }
    }
    const auto clusters = root.find("clusters");
    if (clusters == root.end()) {
        r.add("/clusters", "is missing");
    } else if (!clusters->is_array()) {
        r.add("/clusters", "must be an array, not " + type_name(*clusters));
    } else {
        for (size_t i = 0; i < clusters->size(); ++i) {
            const json& c = (*clusters)[i];
            const std::string base = ptr("/clusters", i);
            if (!c.is_object()) {
                r.add(base, "must be an object, not " + type_name(c));
                continue;
            }
            Cluster cl;
            if (auto v = r.string(c, base, "id", true)) cl.id = *v;
            if (auto v = r.string(c, base, "kind", true)) {
                if (*v == "topic")
                    cl.kind = ClusterKind::topic;
                else if (*v == "synthesis")
                    cl.kind = ClusterKind::synthesis;
                else
                    r.add(ptr(base, "kind"), "must be \"topic\" or \"synthesis\"");
            }
            if (auto v = r.string(c, base, "name", false)) cl.name = *v;
            if (auto v = r.string(c, base, "task", false)) cl.task = *v;
            if (auto v = r.string(c, base, "reference_output", false)) cl.reference_output = *v;
            cl.terminology = r.strings(c, base, "terminology", false);
            cl.canaries = r.strings(c, base, "canaries", false);
            cl.depends_on = r.strings(c, base, "depends_on", false);
            for (size_t k = 0; k < cl.canaries.size(); ++k) {
                where.canary[cl.id].push_back(ptr(ptr(base, "canaries"), k));
            }
            if (c.contains("id") && c["id"].is_string() && cl.id.empty()) {
                r.add(ptr(base, "id"), "must not be empty");
            }
            if (cl.id.empty()) continue;
            if (cluster_ptr.count(cl.id)) {
                r.add(ptr(base, "id"), "duplicate cluster id \"" + cl.id + "\"");
                continue;
            }
            cluster_ptr[cl.id] = base;
            ex.clusters.push_back(std::move(cl));
        }
    }
    const auto turns = root.find("turns");
    if (turns == root.end()) {
        r.add("/turns", "is missing");
        return;
    }
    if (!turns->is_array()) {
        r.add("/turns", "must be an array, not " + type_name(*turns));
        return;
    }
    each_object(*turns, "/turns", r, [&](const json& t, const std::string& base) {
        Turn turn;
        const auto id = read_turn_id(t, base, "id", r);
        if (!id) return;
        turn.id = *id;
        if (auto v = r.string(t, base, "cluster", true)) {
            turn.cluster = *v;
            if (v->empty()) r.add(ptr(base, "cluster"), "must not be empty");
        }
        read_turn_role(t, base, format, r, turn);
        // v2: an assistant turn is context; its type may be left out.
        read_turn_type(t, base, /*required=*/turn.role != TurnRole::assistant, r, turn);
        if (auto v = r.string(t, base, "text", true)) turn.text = *v;
        if (register_turn(turn.id, base, "id", where, r)) ex.turns.push_back(std::move(turn));
    });
}

// ---- semantic checks shared by both formats ----------------------------------------------------

void check_semantics(Example& ex, Reporter& r, const Pointers& where,
                     const ValidationOptions& opt) {
    const auto& cptr = where.cluster;
    const auto& tptr = where.turn;
    for (const Turn& t : ex.turns) {
        const std::string& base = tptr.at(t.id);
        if (t.text.find_first_not_of(" \t\r\n") == std::string::npos) {
            r.add(base, "turn " + std::to_string(t.id) + " has no text");
        }
        if (!t.cluster.empty() && !ex.find(t.cluster)) {
            r.add(base + "/cluster", "names cluster \"" + t.cluster + "\", which does not exist");
        }
    }
    size_t n_topics = 0, n_synth = 0;
    for (const Cluster& c : ex.clusters) {
        const std::string& base = cptr.at(c.id);
        const bool has_turn = std::any_of(ex.turns.begin(), ex.turns.end(),
                                          [&](const Turn& t) { return t.cluster == c.id; });
        if (!has_turn) r.add(base, "cluster \"" + c.id + "\" has no turns");
        if (c.kind == ClusterKind::topic) {
            ++n_topics;
            if (c.terminology.empty()) r.add(base + "/terminology", "a topic cluster needs terms");
            if (!c.depends_on.empty())
                r.add(base + "/depends_on", "only synthesis clusters depend");
        } else {
            ++n_synth;
            if (c.depends_on.empty())
                r.add(base + "/depends_on", "a synthesis cluster needs inputs");
            for (size_t k = 0; k < c.depends_on.size(); ++k) {
                const std::string& d = c.depends_on[k];
                if (d == c.id)
                    r.add(ptr(base + "/depends_on", k), "depends on itself");
                else if (!ex.find(d)) {
                    r.add(ptr(base + "/depends_on", k),
                          "names cluster \"" + d + "\", which does not exist");
                }
            }
        }
        // Canaries must sit in their own cluster's turns and nowhere else.
        const auto canary_ptrs = where.canary.find(c.id);
        for (size_t k = 0; k < c.canaries.size(); ++k) {
            const std::string& can = c.canaries[k];
            const std::string cp =
                canary_ptrs != where.canary.end() && k < canary_ptrs->second.size()
                    ? canary_ptrs->second[k]
                    : ptr(base + "/canaries", k);
            if (can.empty()) {
                r.add(cp, "canary must not be empty");
                continue;
            }
            bool in_own = false;
            for (const Turn& t : ex.turns) {
                if (!contains_ci(t.text, can)) continue;
                if (t.cluster == c.id)
                    in_own = true;
                else {
                    r.add(cp, "canary \"" + can + "\" also appears in turn " +
                                  std::to_string(t.id) + " of cluster \"" + t.cluster + "\"");
                }
            }
            if (!in_own && ex.source_format != kFormatPoc) {
                r.add(cp, "canary \"" + can + "\" is in none of the cluster's turns");
            }
        }
    }
    if (n_topics < 2) {
        r.add(where.clusters_root,
              "needs at least 2 topic clusters, has " + std::to_string(n_topics));
    }
    if (n_synth < 1) r.add(where.clusters_root, "needs a synthesis cluster");
    // Terms disjoint across topic clusters.
    std::map<std::string, std::string> owner;
    for (const Cluster& c : ex.clusters) {
        for (size_t k = 0; k < c.terminology.size(); ++k) {
            const std::string key = lower(c.terminology[k]);
            auto [it, fresh] = owner.emplace(key, c.id);
            if (!fresh && it->second != c.id) {
                r.add(ptr(cptr.at(c.id) + "/terminology", k),
                      "term \"" + c.terminology[k] + "\" is also a term of cluster \"" +
                          it->second + "\"");
            }
        }
    }
    // Synthesis dependencies: acyclic; order syntheses so each follows its inputs.
    std::vector<Cluster> topics, synth;
    for (Cluster& c : ex.clusters) (c.kind == ClusterKind::topic ? topics : synth).push_back(c);
    std::vector<Cluster> ordered = topics;
    std::set<std::string> done;
    for (const Cluster& c : topics) done.insert(c.id);
    bool progress = true;
    while (!synth.empty() && progress) {
        progress = false;
        for (auto it = synth.begin(); it != synth.end();) {
            const bool ready =
                std::all_of(it->depends_on.begin(), it->depends_on.end(),
                            [&](const std::string& d) { return done.count(d) || !ex.find(d); });
            if (ready) {
                done.insert(it->id);
                ordered.push_back(*it);
                it = synth.erase(it);
                progress = true;
            } else {
                ++it;
            }
        }
    }
    for (const Cluster& c : synth) {
        r.add(cptr.at(c.id) + "/depends_on",
              "synthesis cluster \"" + c.id + "\" is part of a dependency cycle");
        ordered.push_back(c);
    }
    ex.clusters = std::move(ordered);
    // The longest context a condition builds (all turns in one context) must fit the model.
    if (opt.count_tokens && opt.max_context > 0) {
        std::string all;
        for (const Turn& t : ex.turns) all += t.text + "\n\n";
        const int64_t n = opt.count_tokens(all);
        if (n > opt.max_context) {
            r.add("/turns", "all turns together are " + std::to_string(n) +
                                " tokens, more than the context of " +
                                std::to_string(opt.max_context));
        }
    }
}

}  // namespace

}  // namespace dataset_internal

std::string Issue::to_string() const {
    return printable_path(file) + ": " + (pointer.empty() ? std::string("(file)") : pointer) +
           ": " + message;
}

std::string_view to_string(TurnType t) {
    switch (t) {
        case TurnType::instruction:
            return "instruction";
        case TurnType::context:
            return "context";
        case TurnType::query:
            return "query";
    }
    return "?";
}

const Cluster* Example::find(const std::string& cluster_id) const {
    for (const Cluster& c : clusters) {
        if (c.id == cluster_id) return &c;
    }
    return nullptr;
}

std::vector<const Turn*> Example::turns_of(const std::string& cluster_id) const {
    std::vector<const Turn*> out;
    for (const Turn& t : turns) {
        if (t.cluster == cluster_id) out.push_back(&t);
    }
    return out;
}

std::vector<const Cluster*> Example::topics() const {
    std::vector<const Cluster*> out;
    for (const Cluster& c : clusters) {
        if (c.kind == ClusterKind::topic) out.push_back(&c);
    }
    return out;
}

std::vector<const Cluster*> Example::syntheses() const {
    std::vector<const Cluster*> out;
    for (const Cluster& c : clusters) {
        if (c.kind == ClusterKind::synthesis) out.push_back(&c);
    }
    return out;
}

LoadResult load_example(const std::filesystem::path& file, const ValidationOptions& options) {
    using namespace dataset_internal;
    LoadResult result;
    Reporter r(file);
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        r.add("", "cannot read the file (" + ec.message() + ")");
        result.issues = std::move(r.issues());
        return result;
    }
    if (size > kMaxFileBytes) {
        r.add("", "file is " + std::to_string(size) + " bytes, more than the 64 MiB limit");
        result.issues = std::move(r.issues());
        return result;
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (const auto nul = text.find('\0'); nul != std::string::npos) {
        r.add("", "file contains a NUL byte at offset " + std::to_string(nul));
        result.issues = std::move(r.issues());
        return result;
    }
    if (!is_valid_utf8(text)) {
        r.add("", "file is not valid UTF-8");
        result.issues = std::move(r.issues());
        return result;
    }
    if (const size_t depth = nesting_depth(text, kMaxNesting); depth > kMaxNesting) {
        r.add("", "JSON nests more than " + std::to_string(kMaxNesting) + " levels deep");
        result.issues = std::move(r.issues());
        return result;
    }
    if (const auto problem = strict_json_problem(text)) {
        r.add(problem->pointer, problem->message);
        result.issues = std::move(r.issues());
        return result;
    }
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) {
        // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        // Drop nlohmann's "[json.exception.<kind>.<id>] " prefix.
        std::string what = e.what();
        if (const auto at = what.find("] ");
            what.starts_with("[json.exception") && at != std::string::npos) {
            what = what.substr(at + 2);
        }
        r.add("", "malformed JSON: " + what);
        result.issues = std::move(r.issues());
        return result;
    }
    if (!root.is_object()) {
        r.add("", "must be a JSON object, not " + type_name(root));
        result.issues = std::move(r.issues());
        return result;
    }
    Example ex;
    ex.file = file;
    Pointers where;
    if (auto f = root.find("format"); f != root.end()) {
        const std::string format = f->is_string() ? f->get<std::string>() : "";
        if (format != kFormatV1 && format != kFormatV2) {
            r.add("/format", std::string("must be \"") + kFormatV1 + "\" or \"" + kFormatV2 + "\"");
            result.issues = std::move(r.issues());
            return result;
        }
        read_native(root, format, ex, r, where);
        if (format == kFormatV2) read_v2(root, ex, r, where);
    } else if (root.contains("semantic_clusters")) {
        read_poc(root, ex, r, where);
    } else {
        r.add("", std::string("neither format: no \"format\" (\"") + kFormatV1 + "\" or \"" +
                      kFormatV2 + "\") and no \"semantic_clusters\" (proof-of-concept format)");
        result.issues = std::move(r.issues());
        return result;
    }
    check_semantics(ex, r, where, options);
    result.example = std::move(ex);
    result.issues = std::move(r.issues());
    return result;
}

}  // namespace rdic
