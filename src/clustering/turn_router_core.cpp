// The model-free parts of the turn routers: names, defaults and the threshold decision. The
// routers themselves are in turn_router.cpp (they need the engine).
#include <algorithm>
#include <string>

#include "rdic/clustering/turn_router.h"
#include "rdic/error.h"

namespace rdic {

namespace {

// In RouterMethod's order.
constexpr const char* kRouterNames[] = {"centroid", "instruct",   "lexical", "hybrid",
                                        "llm",      "hybrid-llm", "pair"};

// Defaults chosen on the dev split (docs/routing.md has the sweeps). Similarities are cosines.
constexpr double kCentroidThreshold = 0.90;  // = today's cosine distance 0.10, mean pooling
constexpr double kInstructThreshold = 0.50;  // with cues, mean link: dev 0.865 (0.3-0.6)
constexpr double kLexicalThreshold = 0.01;   // with cues and recency 0.01: dev 0.793
constexpr double kHybridThreshold = 0.30;    // with cues, mean link, w 0.5: dev 0.899 (0.01-0.3)
constexpr double kHybridLexicalWeight = 0.5;
// pair: mean p(same matter) with a topic's messages; with cues and recency 0.01 dev 0.836
// (1.5B judge, replayed: docs/routing.md). Openings come from the cues at any threshold <= 0.1.
constexpr double kPairThreshold = 0.05;
constexpr double kPairRecency = 0.01;
constexpr double kLlmMargin = 0.02;     // dev, teacher-forced: 20 of 244 turns, 4 of 7 errors
constexpr double kHybridRecency = 0.0;  // dev: any bonus lowers instruct and hybrid
constexpr double kLexicalRecency = 0.01;
// The instruction around a message for last-token pooling (instruct, hybrid, hybrid-llm).
constexpr const char* kInstructTemplate =
    "<|im_start|>system\nYou name the subject of a message.<|im_end|>\n<|im_start|>user\n"
    "Message: {text}<|im_end|>\n<|im_start|>assistant\nThe project or case this message is "
    "about, in one word:";

}  // namespace

TurnRouter::~TurnRouter() = default;

std::string_view to_string(RouterMethod m) {
    return kRouterNames[static_cast<int>(m)];
}

RouterMethod parse_router_method(std::string_view name) {
    for (size_t i = 0; i < std::size(kRouterNames); ++i) {
        if (name == kRouterNames[i]) return static_cast<RouterMethod>(i);
    }
    throw Error(ErrorCode::invalid_argument,
                "unknown router '" + std::string(name) +
                    "' (valid: centroid, instruct, lexical, hybrid, llm, hybrid-llm, pair)");
}

bool router_needs_model(RouterMethod m) {
    return m != RouterMethod::lexical;
}

bool router_needs_model(const TurnRouterOptions& o) {
    return router_needs_model(parse_router_method(o.method)) || o.shift_llm > 0;
}

TurnRouterOptions resolved(const TurnRouterOptions& in) {
    TurnRouterOptions o = in;
    const RouterMethod m = parse_router_method(o.method);
    const bool instruct =
        m == RouterMethod::instruct || m == RouterMethod::hybrid || m == RouterMethod::hybrid_llm;
    if (instruct) {
        if (o.embedding.template_text.empty()) o.embedding.template_text = kInstructTemplate;
        o.embedding.pooling = Pooling::last;
    }
    if (o.threshold == 0) {
        switch (m) {
            case RouterMethod::centroid:
                o.threshold = kCentroidThreshold;
                break;
            case RouterMethod::instruct:
                o.threshold = kInstructThreshold;
                break;
            case RouterMethod::lexical:
                o.threshold = kLexicalThreshold;
                break;
            case RouterMethod::hybrid:
            case RouterMethod::hybrid_llm:
            case RouterMethod::llm:
                o.threshold = kHybridThreshold;
                break;
            case RouterMethod::pair:
                o.threshold = kPairThreshold;
                break;
        }
    }
    if (o.lexical_weight == 0) o.lexical_weight = kHybridLexicalWeight;
    const bool similarity_router = m != RouterMethod::llm;
    // Cues and recency are on for every similarity router but centroid (today's router as it was).
    const bool shaped = m != RouterMethod::centroid;
    if (o.recency < 0) {
        o.recency = m == RouterMethod::lexical ? kLexicalRecency
                    : m == RouterMethod::pair  ? kPairRecency
                    : shaped                   ? kHybridRecency
                                               : 0;
    }
    if (!(o.recency <= 1)) {
        throw Error(ErrorCode::invalid_argument,
                    "router recency must be in [0, 1] (< 0 = the default), got " +
                        std::to_string(o.recency));
    }
    if (o.shift_cues < 0) o.shift_cues = shaped ? 1 : 0;
    if (!similarity_router) {
        o.recency = 0;
        o.shift_cues = 0;
    }
    if (!(o.shift_llm >= 0 && o.shift_llm <= 1)) {
        throw Error(ErrorCode::invalid_argument, "router shift_llm must be in [0, 1]");
    }
    if (o.shift_llm_tokens < 4) throw Error(ErrorCode::invalid_argument, "shift_llm_tokens < 4");
    if (o.shift_llm_context < 0 || o.shift_llm_context > 1)
        throw Error(ErrorCode::invalid_argument, "router shift_llm_context must be 0 or 1");
    if (o.mean_link < 0) o.mean_link = shaped ? 1 : 0;
    if (o.mean_link > 1)
        throw Error(ErrorCode::invalid_argument, "router mean_link must be 0 or 1");
    if (o.shift_cues > 1)
        throw Error(ErrorCode::invalid_argument, "router shift_cues must be 0 or 1");
    if (o.opening_probe && !instruct) {
        throw Error(ErrorCode::invalid_argument,
                    "router " + o.method + ": an opening probe (" + o.opening_probe->file +
                        ") needs a router that embeds with an instruction: instruct, hybrid or "
                        "hybrid-llm");
    }
    if (!(o.opening_probe_threshold >= 0 && o.opening_probe_threshold < 1)) {
        throw Error(ErrorCode::invalid_argument,
                    "router opening_probe_threshold must be in (0, 1) (0 = the probe's own), got " +
                        std::to_string(o.opening_probe_threshold));
    }
    if (o.opening_probe && o.opening_probe_threshold == 0) {
        o.opening_probe_threshold = o.opening_probe->threshold;
    }
    if (o.llm_margin == 0) o.llm_margin = kLlmMargin;
    if (!(o.threshold > -1 && o.threshold <= 1)) {
        throw Error(ErrorCode::invalid_argument,
                    "router threshold must be in (-1, 1], got " + std::to_string(o.threshold));
    }
    if (!(o.lexical_weight >= 0 && o.lexical_weight <= 1)) {
        throw Error(ErrorCode::invalid_argument, "router lexical_weight must be in [0, 1], got " +
                                                     std::to_string(o.lexical_weight));
    }
    if (o.max_topics < 0) throw Error(ErrorCode::invalid_argument, "router max_topics < 0");
    if (o.pair_tokens < 4) throw Error(ErrorCode::invalid_argument, "router pair_tokens < 4");
    if (o.pair_window < 1 || o.pair_window > 64) {
        throw Error(ErrorCode::invalid_argument, "router pair_window must be in [1, 64]");
    }
    if (o.llm_turn_tokens < 8) {
        throw Error(ErrorCode::invalid_argument, "router llm_turn_tokens must be >= 8");
    }
    if (o.llm_max_conversations < 1 || o.llm_max_conversations > 255) {
        throw Error(ErrorCode::invalid_argument,
                    "router llm_max_conversations must be in [1, 255]");
    }
    return o;
}

TopicChoice choose_topic(const std::vector<double>& similarity, double threshold,
                         int32_t max_topics) {
    TopicChoice c;
    const auto n = static_cast<int32_t>(similarity.size());
    int32_t best = -1;
    double second = -2;
    for (int32_t i = 0; i < n; ++i) {
        if (best < 0 || similarity[i] > similarity[best]) {
            if (best >= 0) second = similarity[best];
            best = i;
        } else if (similarity[i] > second) {
            second = similarity[i];
        }
    }
    const bool full = max_topics > 0 && n >= max_topics;
    if (best < 0 || (similarity[best] < threshold && !full)) {
        c.topic = n;
        c.opened = true;
        c.score = best < 0 ? 0 : similarity[best];
        c.margin = best < 0 ? 1 : threshold - similarity[best];
        return c;
    }
    c.topic = best;
    c.score = similarity[best];
    const double alternative = full ? second : std::max(second, threshold);
    c.margin = alternative < -1 ? 1 : similarity[best] - alternative;
    return c;
}

}  // namespace rdic
