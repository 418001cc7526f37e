// Private to src/clustering: the model-side state shared by turn routers (RouterShared) and the
// llm router. The public contract is include/rdic/clustering/turn_router.h.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rdic/clustering/turn_router.h"
#include "rdic/engine/embedder.h"
#include "rdic/engine/session.h"

namespace rdic {

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
    // The new-matter question (shift_llm): a sequence holding its fixed head, forked per ask.
    Sequence shift_head;
    Tokens shift_tail;  // after the message: the question, end of message, reply start
    TokenId yes{-1}, no{-1};
};

// The llm's probability that `text` (its first `n_tokens` tokens) starts a new matter, from
// the message alone: p(Yes) / (p(Yes) + p(No)) at the start of the reply. Thread-safe (takes
// llm_mutex). Throws engine errors.
double new_matter_probability(RouterShared& shared, std::string_view text, int32_t n_tokens);

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
