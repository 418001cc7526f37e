#include "rdic/bench/workload.h"

#include <array>

#include "rdic/error.h"
#include "rdic/isolation/prompt.h"

namespace rdic {

namespace {

// Plain English words, split into one vocabulary per cluster so that clusters share no terms.
constexpr std::array<const char*, 96> kWords = {
    "harbor",  "ledger",  "copper",  "meadow", "signal",  "timber", "lantern", "quarry",  "orchard",
    "canvas",  "granite", "ferry",   "pylon",  "saddle",  "cobalt", "thistle", "glacier", "furnace",
    "pepper",  "velvet",  "anchor",  "beacon", "cinder",  "dynamo", "ember",   "falcon",  "gadget",
    "hollow",  "island",  "jasper",  "kettle", "lagoon",  "marble", "nectar",  "oyster",  "parcel",
    "quiver",  "raven",   "summit",  "tunnel", "umber",   "valley", "walnut",  "yonder",  "zephyr",
    "basalt",  "cradle",  "dapple",  "engine", "fossil",  "garnet", "hazel",   "ingot",   "juniper",
    "kernel",  "lumber",  "mortar",  "nickel", "ochre",   "pewter", "quartz",  "rivet",   "spindle",
    "tallow",  "upland",  "vessel",  "willow", "xylem",   "yarrow", "zinc",    "bramble", "cobble",
    "drizzle", "estuary", "flint",   "gravel", "heather", "iris",   "jetty",   "kiln",    "loom",
    "mantle",  "nimbus",  "outpost", "pebble", "quill",   "ridge",  "sorrel",  "trellis", "urchin",
    "vapor",   "wharf",   "yeast",   "zenith", "alder",   "birch"};
constexpr std::array<const char*, 12> kGlue = {"the", "a",    "and",  "with", "near", "of",
                                               "for", "from", "into", "over", "by",   "to"};

struct Lcg {
    uint32_t state;
    uint32_t next(uint32_t n) {
        state = state * 1664525u + 1013904223u;
        return (state >> 8) % n;
    }
};

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += "\n\n";
        out += p;
    }
    return out;
}

// The context block exactly as plans build it: turns joined by blank lines (render_turns), then
// the prompt builder's block end.
int64_t block_tokens(const Model& model, const std::vector<std::string>& turns) {
    return static_cast<int64_t>(
        model.tokenize(PromptBuilder::context_block(join(turns)), false, false).size());
}

// Turns for one cluster: words are appended to turn k until the block reaches k+1 shares of
// the target, so the turns come out about equally long and the total hits the target.
std::vector<std::string> make_turns(const Model& model, int32_t target, int32_t n_turns,
                                    size_t i_cluster, size_t n_clusters, uint32_t seed) {
    Lcg rng{seed * 7919u + static_cast<uint32_t>(i_cluster) * 104729u + 17u};
    const size_t per = kWords.size() / n_clusters;
    const size_t first = i_cluster * per;
    std::vector<std::string> turns(static_cast<size_t>(n_turns));
    int32_t in_sentence = 0;
    for (int32_t k = 0; k < n_turns; ++k) {
        const int64_t goal = static_cast<int64_t>(target) * (k + 1) / n_turns;
        std::string& t = turns[static_cast<size_t>(k)];
        in_sentence = 0;
        while (block_tokens(model, std::vector<std::string>(turns.begin(), turns.begin() + k + 1)) <
               goal) {
            std::string word = in_sentence % 3 == 1
                                   ? kGlue[rng.next(static_cast<uint32_t>(kGlue.size()))]
                                   : kWords[first + rng.next(static_cast<uint32_t>(per))];
            if (in_sentence == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
            if (!t.empty()) t += ' ';
            t += word;
            if (++in_sentence >= 9 + static_cast<int32_t>(rng.next(6))) {
                t += '.';
                in_sentence = 0;
            }
        }
        if (t.empty()) t = "Note.";
    }
    return turns;
}

}  // namespace

Example synthetic_poc_example(const Model& model, const SyntheticOptions& o) {
    if (o.topic_tokens.size() < 2 || o.synthesis_tokens <= 0 || o.turns_per_topic <= 0 ||
        o.turns_synthesis <= 0) {
        throw Error(ErrorCode::invalid_argument,
                    "synthetic workload: needs at least two topics and positive token and turn "
                    "counts");
    }
    for (int32_t n : o.topic_tokens) {
        if (n <= 0) throw Error(ErrorCode::invalid_argument, "synthetic workload: topic size <= 0");
    }
    Example ex;
    ex.id = "synthetic-poc";
    ex.domain = "synthetic";
    ex.split = "bench";
    ex.order = "interleaved";
    ex.source_format = "synthetic";
    ex.description = "Token-count replica of the proof of concept's example (text is filler).";
    const size_t n_clusters = o.topic_tokens.size() + 1;
    std::vector<std::vector<std::string>> texts;
    std::vector<std::string> topic_ids;
    for (size_t i = 0; i < o.topic_tokens.size(); ++i) {
        Cluster c;
        c.id = std::string("topic_") + static_cast<char>('a' + i);
        c.kind = ClusterKind::topic;
        c.name = std::string("Topic ") + static_cast<char>('A' + i);
        c.task = "Write the " + c.name + " plan.";
        texts.push_back(
            make_turns(model, o.topic_tokens[i], o.turns_per_topic, i, n_clusters, o.seed));
        c.terminology = {texts.back()[0].substr(0, texts.back()[0].find(' '))};
        topic_ids.push_back(c.id);
        ex.clusters.push_back(std::move(c));
    }
    Cluster s;
    s.id = "synthesis";
    s.kind = ClusterKind::synthesis;
    s.name = "Synthesis";
    s.task = "Combine the topic plans into one.";
    s.depends_on = topic_ids;
    const auto synth_turns = make_turns(model, o.synthesis_tokens, o.turns_synthesis,
                                        n_clusters - 1, n_clusters, o.seed);
    ex.clusters.push_back(std::move(s));

    // Interleave the topics' turns, then the synthesis turns (the conversation ends with them).
    int32_t id = 1;
    for (int32_t k = 0; k < o.turns_per_topic; ++k) {
        for (size_t i = 0; i < topic_ids.size(); ++i) {
            ex.turns.push_back(
                {id++, topic_ids[i], TurnType::context, texts[i][static_cast<size_t>(k)]});
        }
    }
    for (const auto& t : synth_turns) ex.turns.push_back({id++, "synthesis", TurnType::query, t});
    return ex;
}

WorkloadShape measure_shape(const Model& model, const Example& example) {
    WorkloadShape shape;
    std::vector<std::string> all;
    for (const Turn& t : example.turns) all.push_back(t.text);
    shape.shared_tokens = block_tokens(model, all);
    for (const Cluster& c : example.clusters) {
        std::vector<std::string> own;
        for (const Turn* t : example.turns_of(c.id)) own.push_back(t->text);
        shape.cluster_tokens.emplace_back(c.id, block_tokens(model, own));
    }
    return shape;
}

}  // namespace rdic
