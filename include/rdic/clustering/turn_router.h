// TurnRouter: routes each new user message of one conversation to one of its topics, one message
// at a time, in conversation order, with no look-ahead: what `rdic serve` does per session, and
// what `rdic cluster --method online --router NAME` measures against the labelled topics.
//
//   auto shared = rdic::make_router_shared(model, {.method = "hybrid"});   // once per server
//   std::unique_ptr<rdic::TurnRouter> r = rdic::make_turn_router({.method = "hybrid"}, shared);
//   rdic::TopicChoice c = r->route(user_text);      // no state change
//   r->commit(c.topic, user_text);                   // c.topic == r->n_topics() opens a topic
//   r->commit(explicit_topic, user_text);            // an explicit `topic` field overrides
//
// Topics are numbered 0, 1, ... in order of opening. route() only proposes; commit() records the
// message under a topic (the proposed one or any other: an explicit choice, a replay). A server
// rebuilds a session's router after a restart by replaying commit() over its stored user turns in
// order: commit() never looks at route()'s result, so a replay gives the same state as the
// original run. Synthesis requests are not routed (the server marks them) and are not committed.
//
// Methods (docs/routing.md has the per-method ARI and time per turn; defaults chosen on dev):
//   centroid   today's online router: the model's mean-pooled hidden state of the message
//              (Embedder), nearest topic centroid by cosine, a new topic past `threshold`.
//              The options' default (unchanged behaviour), not the best.
//   instruct   last-token state after an instruction template, mean cosine with each topic's
//              messages, topic-shift cues (topic_shift.h) open topics.
//   lexical    incremental TF-IDF over the messages seen so far, mean cosine, cues, a small
//              bonus for the previous message's topic. No model; well under 1 ms a message.
//   hybrid     0.5 x instruct + 0.5 x lexical similarity, cues. The best on dev (0.899); on
//              test no better than lexical, which needs no forward pass: a server that cannot
//              spend one model pass per message should use lexical.
//   llm        the instruct model reads the conversation so far (every message tagged with its
//              topic letter) and picks the new message's letter, constrained to the letters in
//              use plus the next one (a new topic). Its histories live in one shared context
//              of llm_ctx cells (messages cut to llm_turn_tokens); when it is full, route()
//              keeps the most recent topic. The 0.5B model answers "A" almost always.
//   hybrid-llm hybrid, and the llm decides where hybrid's margin is below `llm_margin`.
//   pair       the instruct model as a judge of pairs: for the new message and each earlier
//              one (the pair_window most recent), p(Yes) of "is the second message about the
//              same matter as the first?"; a topic's similarity is the mean over its messages;
//              cues open topics. One batched prefill of all pairs per message.
//
// Thread-safety: one TurnRouter belongs to one conversation; the caller serialises calls on it
// (the server holds the session's lock around route + commit). Routers of different
// conversations may run on different threads at once: the model-side parts they share
// (RouterShared: the Embedder, the LLM context) lock internally; a router's calls wait for them.
// Failure: engine errors propagate as rdic::Error and leave the router as it was (commit() either
// records the message or throws before changing anything); bad options throw invalid_argument
// from the factory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rdic/engine/embedder.h"
#include "rdic/engine/model.h"
#include "rdic/records/opening_probe.h"

namespace rdic {

struct TopicChoice {
    int32_t topic = 0;    // [0, n_topics()) an existing topic; n_topics() a new one
    bool opened = false;  // topic == n_topics(): the message starts a new topic
    double score = 0;     // the method's score of the choice (similarity, or llm probability)
    double margin = 0;    // score gap to the runner-up (another topic or "new"); small = unsure
    bool llm_decided = false;  // the llm made this choice (llm, or hybrid-llm on a small margin)
    bool shift_cue = false;    // the message starts with a topic-shift cue (topic_shift.h)
    // pair: p(same matter) with each earlier committed message still in the window, oldest
    // first (the last pair_p.size() committed messages); empty for the other methods.
    std::vector<double> pair_p;
    double shift_p = -1;  // shift_llm: the llm's probability that the message starts a new
                          // matter (from the message alone, or with the earlier messages:
                          // shift_llm_context); -1 when not asked or no room to ask
    // opening_probe: the probe's probability that the message opens a new topic; -1 when there
    // is no probe (or no topic yet). At or above the threshold it opens, like a cue.
    double probe_p = -1;
    double route_ms = 0;  // wall time of this route() call
};

struct TurnRouterOptions {
    std::string method = "centroid";  // see the header comment; parse_router_method()
    // New-topic threshold on the method's similarity: a message whose best topic scores below
    // it opens a new topic. 0 = the method's default (chosen on the dev split, docs/routing.md).
    double threshold = 0;
    int32_t max_topics = 0;     // never more topics (the best existing is taken); 0 = no limit
    double lexical_weight = 0;  // hybrid: weight of the lexical similarity; 0 = default
    double llm_margin = 0;      // hybrid-llm: ask the llm below this margin; 0 = default
    // Similarity routers: added to the similarity of the topic of the previous message (people
    // stay on a subject for a few messages). < 0 = the method's default, 0 = off.
    double recency = -1;
    // Similarity routers: a message that starts with a topic-shift cue (topic_shift.h) opens a
    // new topic whatever the similarities. -1 = the method's default, 0 = off, 1 = on.
    int32_t shift_cues = -1;
    // Embedding similarity with a topic: the cosine with the sum of its messages' normalised
    // vectors (centroid, OnlineRouter), or the mean of the cosines with its messages (mean,
    // average linkage). -1 = the method's default (centroid for centroid, else mean), 0 =
    // centroid, 1 = mean.
    int32_t mean_link = -1;
    // Similarity routers: > 0 also asks the llm, from the message's first shift_llm_tokens
    // tokens alone, whether it starts a new matter; p(yes) >= shift_llm opens a topic (like a
    // cue). 0 = off.
    double shift_llm = 0;
    int32_t shift_llm_tokens = 48;
    // shift_llm: 1 = the question also lists the conversation's earlier messages (each cut to
    // shift_llm_tokens), so the llm can see whether the matter was discussed; 0 = the message
    // alone. The probability depends on the earlier messages only, not on the routing.
    int32_t shift_llm_context = 0;
    // Embedding routers (instruct, hybrid, hybrid-llm): a linear probe on the message's vector
    // (rdic/records/opening_probe.h; trained on the train split by tools/opening_probe.py).
    // p >= its threshold opens a new topic like a cue (shift_cue is set). It must have been
    // trained on this router's model and embedding: make_router_shared checks. Null = none.
    std::shared_ptr<const OpeningProbe> opening_probe{};
    double opening_probe_threshold = 0;  // (0, 1): overrides the probe's threshold; 0 = its own
    // Embedding of messages (centroid/instruct/hybrid). Empty template with `instruct` = the
    // default instruction; max_tokens cuts long messages.
    EmbedderOptions embedding{};
    int32_t pair_tokens = 64;       // pair: each message is cut to this many tokens in a pair
    int32_t pair_window = 32;       // pair: the most recent messages a new one is compared with
    int32_t llm_turn_tokens = 128;  // llm: each message is cut to this many tokens in its prompt
    int32_t llm_ctx = 8192;         // llm: KV cells of the shared context (all conversations)
    int32_t llm_max_conversations = 64;  // llm: conversations holding a history at once
    int32_t n_threads = 0;               // CPU threads of the model contexts; 0 = all
};

enum class RouterMethod { centroid, instruct, lexical, hybrid, llm, hybrid_llm, pair };
std::string_view to_string(RouterMethod m);  // "centroid", ..., "hybrid-llm"
// Throws invalid_argument naming the unknown method and the valid ones.
RouterMethod parse_router_method(std::string_view name);
bool router_needs_model(RouterMethod m);                    // all but lexical
bool router_needs_model(const TurnRouterOptions& options);  // the method, or shift_llm

// The options with every 0 = "default" replaced by the method's default (what a run used).
TurnRouterOptions resolved(const TurnRouterOptions& options);

// The decision every similarity-based method makes: the topic with the highest similarity
// (ties: the lowest index), or a new topic when there is none or the best is below `threshold`
// (unless max_topics > 0 topics exist already). margin = |best - max(threshold, runner-up)|
// where the alternative is the closer of "new" and the second topic. Pure.
TopicChoice choose_topic(const std::vector<double>& similarity, double threshold,
                         int32_t max_topics);

class TurnRouter {
public:
    virtual ~TurnRouter();
    // Where `user_text` would go. Changes no topic (a router may cache work for the commit()
    // of the same text that usually follows).
    virtual TopicChoice route(std::string_view user_text) = 0;
    // Records `user_text` under `topic` (0 <= topic <= n_topics(); n_topics() opens a new one).
    // Throws invalid_argument for a topic out of range.
    virtual void commit(int32_t topic, std::string_view user_text) = 0;
    virtual int32_t n_topics() const = 0;
};

// Throws invalid_argument naming the probe's file and the field when `probe` was trained on
// another model (name, description, parameters, width) or another embedding (pooling, template)
// than `model` and `embedding` (a router's resolved options).
void check_opening_probe(const OpeningProbe& probe, const ModelInfo& model,
                         const EmbedderOptions& embedding);

// The model-side parts the routers of many conversations share: the Embedder and the LLM
// context, created on first use, each behind its own mutex. One per model (per server).
struct RouterShared;
std::shared_ptr<RouterShared> make_router_shared(std::shared_ptr<const Model> model,
                                                 const TurnRouterOptions& options);

// A router for one conversation. `shared` may be null for methods without a model (lexical).
// The shared parts must have been made with the same method's embedding options (and probe).
std::unique_ptr<TurnRouter> make_turn_router(const TurnRouterOptions& options,
                                             std::shared_ptr<RouterShared> shared);
// Convenience: a router with its own shared parts (a context of its own).
std::unique_ptr<TurnRouter> make_turn_router(const TurnRouterOptions& options,
                                             std::shared_ptr<const Model> model);

}  // namespace rdic
