// Private to src/clustering: the model-side state shared by turn routers (RouterShared) and the
// llm router. The public contract is include/rdic/clustering/turn_router.h.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rdic/clustering/turn_router.h"
#include "rdic/engine/embedder.h"
#include "rdic/engine/session.h"

namespace rdic {

// A yes/no question to the instruct model: the chat up to where the question's own text starts
// (BOS, system prompt, the start of the user message and a fixed lead-in) and what follows the
// text (the question, the end of the user message, the start of the reply, where p(Yes) is read).
struct YesNoPrompt {
    Tokens head;
    Tokens tail;
    bool ready() const { return !head.empty(); }
};

struct RouterShared {
    std::shared_ptr<const Model> model;
    TurnRouterOptions options;  // resolved()
    std::mutex mutex;           // guards the creation of `embedder` (which locks itself)
    std::unique_ptr<Embedder> embedder;

    // The llm decision's context, shared by the llm routers of all conversations: each holds
    // its own sequences in it. Everything below is guarded by llm_mutex.
    std::mutex llm_mutex;
    std::unique_ptr<Session> llm_session;
    Tokens head;                   // BOS, system prompt, start of the first user message
    Tokens after_message;          // end of a user message, start of the assistant's reply
    Tokens after_answer;           // end of the reply, start of the next user message
    std::vector<TokenId> letters;  // the tokens "A".."Z"
    // The three yes/no questions (make_yes_no_prompt in llm_router.cpp), made on first use.
    YesNoPrompt shift;     // the new-matter question about the message alone (shift_llm)
    YesNoPrompt context;   // the same with the earlier messages listed (NewMatterAsker)
    YesNoPrompt pair;      // "is the second message about the same matter?" (PairJudge)
    Sequence shift_head;   // shift.head prefilled once, forked per ask
    Tokens context_item;   // before each earlier message in the list
    Tokens context_probe;  // after the list, before the newest message
    Tokens pair_middle;    // between the two messages
    TokenId yes{-1}, no{-1};
};

// The llm's probability that `text` (its first `n_tokens` tokens) starts a new matter, from
// the message alone: p(Yes) / (p(Yes) + p(No)) at the start of the reply. Thread-safe (takes
// llm_mutex). Throws engine errors.
double new_matter_probability(RouterShared& shared, std::string_view text, int32_t n_tokens);

// The new-matter question asked with the conversation's earlier messages (shift_llm_context),
// one per conversation. The chat is a system prompt and one user message: "Earlier messages:"
// with one line per committed message (each cut to `n_tokens`), then "Newest message:" and the
// question. The list is a sequence of the shared llm context that grows by one line per noted
// message, lazily (at the next ask); ask() forks it and appends the newest message and the
// question. The answer depends only on the conversation's earlier messages, never on the
// routing decisions, so a run's probabilities can be replayed offline (tools/route_sweep.py).
class NewMatterAsker {
public:
    NewMatterAsker(std::shared_ptr<RouterShared> shared, int32_t n_tokens);
    ~NewMatterAsker();
    // p(Yes) / (p(Yes) + p(No)); nullopt when the shared context has no room for the list
    // (then the caller decides without it). Throws other engine errors.
    std::optional<double> ask(std::string_view text);
    // `text` joins the earlier messages (appended at the next ask()).
    void note(std::string_view text) { pending_.emplace_back(text); }

private:
    std::shared_ptr<RouterShared> shared_;
    int32_t n_tokens_;
    std::vector<std::string> pending_;
    Sequence list_;
};

// The llm as a judge of pairs (the `pair` router): for each earlier message a of the
// conversation and the new message b, p(Yes) of "Is the second message about the same matter as
// the first?", with a and b cut to `n_tokens`. Each noted message keeps a sequence of the shared
// llm context holding the prompt up to the second message (prefilled at the next ask, all in one
// batch); ask() forks them all and prefills every probe in one batch. Only the `window` most
// recent messages are kept (older ones get no probability). Like NewMatterAsker, the
// probabilities depend on the messages alone, not on the routing.
class PairJudge {
public:
    PairJudge(std::shared_ptr<RouterShared> shared, int32_t n_tokens, int32_t window);
    ~PairJudge();
    // p(same matter) with each kept earlier message, oldest first (message index first_kept()
    // + i); nullopt when the shared context has no room. Throws other engine errors.
    std::optional<std::vector<double>> ask(std::string_view text);
    void note(std::string_view text);                   // `text` becomes an earlier message
    int32_t first_kept() const { return first_kept_; }  // index of the oldest kept message

private:
    std::shared_ptr<RouterShared> shared_;
    int32_t n_tokens_, window_;
    int32_t first_kept_ = 0;
    std::vector<std::string> pending_;  // noted, not yet prefilled (after `prefixes_`)
    std::vector<Sequence> prefixes_;    // one per kept message, oldest first
};

// The shared Embedder, created on first use with options.embedding. Thread-safe.
Embedder& shared_embedder(RouterShared& shared);

// The `llm` router, and hybrid-llm's tie-breaker. The conversation so far is a chat in the llm
// context: the system prompt says what to do, each user message (cut to llm_turn_tokens) is
// followed by the assistant's reply, its topic letter. route() appends the new message and reads
// the letter logits where the reply would start, over the letters in use plus the next one (a
// new topic): a one-token decision constrained to those letters, so it always parses, with the
// probabilities (softmax over the allowed letters) as score. Committed messages are appended to
// the history lazily (at the next route), so a caller that routes only some messages pays the
// prefill of each message once. When the context is full the router falls back to the most
// recent topic (llm_decided stays false).
class LlmRouter final : public TurnRouter {
public:
    explicit LlmRouter(std::shared_ptr<RouterShared> shared);
    ~LlmRouter() override;
    TopicChoice route(std::string_view text) override;
    void commit(int32_t topic, std::string_view text) override;
    int32_t n_topics() const override { return n_topics_; }

private:
    struct Committed {
        std::string text;
        int32_t topic = 0;
    };
    Tokens message_tokens(std::string_view text) const;
    void flush();  // appends `pending_` to history_ (llm_mutex held)

    std::shared_ptr<RouterShared> shared_;
    int32_t n_topics_ = 0;
    int32_t last_topic_ = 0;
    std::vector<Committed> pending_;  // committed, not yet in history_
    Sequence history_;                // head + every flushed message with its letter
    Sequence probe_;                  // history_ + the last routed message + reply start
    std::string probe_text_;
};

}  // namespace rdic
