// The proof of concept's dataset format (`semantic_clusters`, `ground_truth`, `turn_id`) ->
// Example, every problem reported as file + JSON pointer. The native formats are in load.cpp /
// load_v2.cpp.
#include <string>

#include "load_internal.h"
#include "rdic/datasets/example.h"

namespace rdic::dataset_internal {

namespace {

// Free-form nested JSON as plain text: strings as they are, objects as "key: value" lines.
// Nesting deeper than this is cut (a reference text never needs it; recursion must stay bounded).
constexpr int kMaxFlattenDepth = 32;

void flatten(const json& v, std::string& out, const std::string& prefix = "", int depth = 0) {
    if (depth > kMaxFlattenDepth) return;
    if (v.is_string()) {
        out += prefix + v.get<std::string>() + "\n";
    } else if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (it.value().is_null()) {
                out += prefix + it.key() + ":\n";
            } else if (it.value().is_primitive()) {
                out += prefix + it.key() + ": ";
                flatten(it.value(), out, "", depth + 1);
            } else {
                out += prefix + it.key() + ":\n";
                flatten(it.value(), out, prefix + "  ", depth + 1);
            }
        }
    } else if (v.is_array()) {
        for (const json& e : v) flatten(e, out, prefix, depth + 1);
    } else if (!v.is_null()) {
        out += prefix + v.dump() + "\n";
    }
}

std::string poc_cluster_name(const json& label) {
    if (label.is_number_integer()) return "cluster_" + std::to_string(label.get<int64_t>());
    if (label.is_string()) {
        const std::string s = label.get<std::string>();
        if (!s.empty() &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return "cluster_" + s;
        }
        return s;
    }
    return {};
}

}  // namespace

void read_poc(const json& root, Example& ex, Reporter& r, Pointers& where) {
    auto& cluster_ptr = where.cluster;
    auto& turn_ptr = where.turn;
    where.clusters_root = "/semantic_clusters";
    ex.source_format = kFormatPoc;
    if (auto v = r.string(root, "", "id", true)) ex.id = *v;
    if (auto v = r.string(root, "", "domain", false)) ex.domain = *v;
    if (auto v = r.string(root, "", "description", false)) ex.description = *v;
    const json* canaries = nullptr;
    if (auto m = root.find("methodology_notes"); m != root.end() && m->is_object()) {
        if (auto c = m->find("canary_facts"); c != m->end() && c->is_object()) canaries = &*c;
    }
    const json* truth = nullptr;
    if (auto g = root.find("ground_truth"); g != root.end() && g->is_object()) truth = &*g;

    // Turn ids each cluster lists, to cross-check against the turns' own labels.
    std::map<int64_t, std::vector<std::string>> listed_in;
    const auto sc = root.find("semantic_clusters");
    if (sc == root.end() || !sc->is_object()) {
        r.add("/semantic_clusters", sc == root.end() ? "is missing" : "must be an object");
    } else {
        std::vector<std::string> topic_ids;
        for (auto it = sc->begin(); it != sc->end(); ++it) {
            const std::string base = ptr("/semantic_clusters", it.key());
            if (!it.value().is_object()) {
                r.add(base, "must be an object, not " + type_name(it.value()));
                continue;
            }
            const json& c = it.value();
            Cluster cl;
            cl.id = it.key();
            const auto task_type = r.string(c, base, "task_type", true).value_or("");
            cl.kind = lower(task_type) == "synthesis" ? ClusterKind::synthesis : ClusterKind::topic;
            cl.name = r.string(c, base, "focus_area", false).value_or(task_type);
            cl.task = r.string(c, base, "expected_output", false).value_or("");
            if (cl.kind == ClusterKind::topic) {
                cl.terminology = r.strings(c, base, "terminology", false);
                topic_ids.push_back(cl.id);
            }
            if (auto ids = c.find("turns"); ids == c.end() || !ids->is_array()) {
                r.add(ptr(base, "turns"), ids == c.end() ? "is missing" : "must be an array");
            } else {
                for (size_t k = 0; k < ids->size(); ++k) {
                    if (!(*ids)[k].is_number_integer()) {
                        r.add(ptr(ptr(base, "turns"), k), "must be an integer turn id");
                        continue;
                    }
                    listed_in[(*ids)[k].get<int64_t>()].push_back(cl.id);
                }
            }
            if (canaries != nullptr) {
                const std::string cbase = ptr("/methodology_notes/canary_facts", cl.id);
                if (auto f = canaries->find(cl.id); f != canaries->end()) {
                    if (f->is_string()) {
                        cl.canaries.push_back(f->get<std::string>());
                        where.canary[cl.id].push_back(cbase);
                    } else if (f->is_array()) {
                        for (size_t k = 0; k < f->size(); ++k) {
                            if (!(*f)[k].is_string()) continue;
                            cl.canaries.push_back((*f)[k].get<std::string>());
                            where.canary[cl.id].push_back(ptr(cbase, k));
                        }
                    }
                }
            }
            if (truth != nullptr) {
                const std::string key = "output_" + cl.id;
                if (auto g = truth->find(key); g != truth->end()) flatten(*g, cl.reference_output);
            }
            cluster_ptr[cl.id] = base;
            ex.clusters.push_back(std::move(cl));
        }
        for (Cluster& cl : ex.clusters) {
            if (cl.kind == ClusterKind::synthesis) cl.depends_on = topic_ids;
        }
    }
    const auto turns = root.find("turns");
    if (turns == root.end() || !turns->is_array()) {
        r.add("/turns", turns == root.end() ? "is missing" : "must be an array");
        return;
    }
    each_object(*turns, "/turns", r, [&](const json& t, const std::string& base) {
        Turn turn;
        const auto id = read_turn_id(t, base, "turn_id", r);
        if (!id) return;
        turn.id = *id;
        if (auto c = t.find("cluster"); c == t.end()) {
            r.add(ptr(base, "cluster"), "is missing");
        } else {
            turn.cluster = poc_cluster_name(*c);
            if (turn.cluster.empty())
                r.add(ptr(base, "cluster"), "must be a cluster name or number");
        }
        read_turn_type(t, base, /*required=*/false, r, turn);
        // The POC skipped `query` turns: read whichever text field the turn has.
        for (const char* key : {"instruction", "content", "query", "text"}) {
            if (auto v = t.find(key);
                v != t.end() && v->is_string() && !v->get<std::string>().empty()) {
                turn.text = v->get<std::string>();
                break;
            }
        }
        if (!register_turn(turn.id, base, "turn_id", where, r)) return;
        // Both places that say which cluster a turn belongs to must agree.
        const auto listed = listed_in.find(turn.id);
        if (listed == listed_in.end()) {
            r.add(base, "turn " + std::to_string(turn.id) + " is in no cluster's turn list");
        } else if (listed->second.size() > 1) {
            r.add(base, "turn " + std::to_string(turn.id) + " is listed in several clusters");
        } else if (!turn.cluster.empty() && listed->second[0] != turn.cluster) {
            r.add(ptr(base, "cluster"), "says \"" + turn.cluster + "\" but turn " +
                                            std::to_string(turn.id) + " is listed in \"" +
                                            listed->second[0] + "\"");
        }
        ex.turns.push_back(std::move(turn));
    });
    for (const auto& [id, owners] : listed_in) {
        if (!turn_ptr.count(static_cast<int32_t>(id))) {
            r.add(cluster_ptr[owners[0]] + "/turns",
                  "lists turn " + std::to_string(id) + ", which does not exist");
        }
    }
    if (auto n = root.find("total_turns");
        n != root.end() && n->is_number_integer() &&
        n->get<int64_t>() != static_cast<int64_t>(ex.turns.size())) {
        r.add("/total_turns", "says " + std::to_string(n->get<int64_t>()) + " but there are " +
                                  std::to_string(ex.turns.size()) + " turns");
    }
}

}  // namespace rdic::dataset_internal
