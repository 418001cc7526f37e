#include "llm_router.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "rdic/engine/chat.h"
#include "rdic/error.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kMaxLetters = 26;
constexpr const char* kSystemPrompt =
    "You sort the messages of one conversation by subject. The user is working on several "
    "separate matters (projects, cases, problems) and sends messages one at a time. Reply to "
    "each message with one capital letter only: the letter of the earlier message about the same "
    "matter, or the next unused letter when the message starts a matter not seen before. The "
    "first message is A.";

// Splits `text` at the marker characters, in order; throws when one is missing.
std::vector<std::string> split_at(const std::string& text, const std::string& markers) {
    std::vector<std::string> parts;
    size_t from = 0;
    for (char m : markers) {
        const size_t at = text.find(m, from);
        if (at == std::string::npos) {
            throw Error(ErrorCode::unsupported_model,
                        "llm router: the chat template drops a message");
        }
        parts.push_back(text.substr(from, at - from));
        from = at + 1;
    }
    parts.push_back(text.substr(from));
    return parts;
}

// Prepares the shared llm context on first use (llm_mutex held).
void prepare(RouterShared& s) {
    if (s.llm_session) return;
    const Model& m = *s.model;
    const ChatFormatter chat(m);
    const std::string one = chat.format({{"system", kSystemPrompt}, {"user", "\x01"}}, true);
    const std::string two = chat.format(
        {{"system", kSystemPrompt}, {"user", "\x01"}, {"assistant", "\x02"}, {"user", "\x03"}},
        true);
    const std::vector<std::string> a = split_at(one, "\x01");
    const std::vector<std::string> b = split_at(two, "\x01\x02\x03");
    if (b[0] != a[0] || b[1] != a[1]) {
        throw Error(ErrorCode::unsupported_model,
                    "llm router: the chat template formats the first message differently when "
                    "more follow");
    }
    s.head = chat.tokenize(a[0]);
    s.after_message = m.tokenize(a[1], false, true);
    s.after_answer = m.tokenize(b[2], false, true);
    s.letters.clear();
    for (int32_t i = 0; i < kMaxLetters; ++i) {
        const Tokens t = m.tokenize(std::string(1, static_cast<char>('A' + i)), false, false);
        if (t.size() != 1) {
            throw Error(ErrorCode::unsupported_model,
                        "llm router: the letter " + std::string(1, static_cast<char>('A' + i)) +
                            " is not one token in this vocabulary");
        }
        s.letters.push_back(t[0]);
    }
    const TurnRouterOptions& o = s.options;
    s.llm_session = std::make_unique<Session>(
        s.model, SessionOptions{.n_ctx = o.llm_ctx,
                                .n_seq_max = std::min(2 * o.llm_max_conversations + 1, 256),
                                .n_threads = o.n_threads});
}

constexpr const char* kShiftSystemPrompt =
    "You read one message from a long chat in which a person works through several separate "
    "matters (projects, cases, problems). Say whether this message introduces a new matter "
    "(for example by saying it is another, separate, different or next issue) or continues "
    "the matter already being discussed.";
constexpr const char* kShiftQuestion =
    "\n\nDoes this message start a new, separate matter? Answer Yes or No.";

constexpr const char* kContextSystemPrompt =
    "You read a chat in which a person works through several separate matters (projects, "
    "cases, problems), one message at a time. Say whether the newest message starts a matter "
    "that none of the earlier messages is about (people often announce it: another, separate, "
    "next or second issue), or continues a matter of the earlier messages.";
constexpr const char* kContextQuestion =
    "\n\nDoes the newest message start a new matter that none of the earlier messages is "
    "about? Answer Yes or No.";

constexpr const char* kPairSystemPrompt =
    "You read two messages from a chat in which a person works through several separate "
    "matters (projects, cases, problems). Say whether the second message is about the same "
    "matter as the first.";
constexpr const char* kPairQuestion =
    "\n\nIs the second message about the same matter as the first? Answer Yes or No.";

// The first `n` tokens of `text` (the message's own text: control tokens not parsed).
Tokens first_tokens(const Model& m, std::string_view text, int32_t n) {
    Tokens t = m.tokenize(text, false, false);
    if (static_cast<int32_t>(t.size()) > n) t.resize(static_cast<size_t>(n));
    return t;
}

// Yes and No as single tokens, once (llm_mutex held).
void prepare_yes_no(RouterShared& s) {
    if (s.yes.value >= 0) return;
    const Model& m = *s.model;
    const Tokens yes = m.tokenize("Yes", false, false);
    const Tokens no = m.tokenize("No", false, false);
    if (yes.size() != 1 || no.size() != 1) {
        throw Error(ErrorCode::unsupported_model,
                    "llm router: Yes/No are not single tokens in this vocabulary");
    }
    s.yes = yes[0];
    s.no = no[0];
}

// The one builder of the yes/no questions (llm_mutex held): `system` as the system prompt, the
// user message starting with `lead_in`, then the caller's text, then `question`.
YesNoPrompt make_yes_no_prompt(RouterShared& s, const char* system, const char* lead_in,
                               const char* question) {
    prepare_yes_no(s);
    const Model& m = *s.model;
    const ChatFormatter chat(m);
    const std::vector<std::string> a =
        split_at(chat.format({{"system", system}, {"user", "\x01"}}, true), "\x01");
    YesNoPrompt p;
    p.head = chat.tokenize(a[0] + lead_in);
    p.tail = m.tokenize(question, false, false);
    const Tokens after = m.tokenize(a[1], false, true);
    p.tail.insert(p.tail.end(), after.begin(), after.end());
    return p;
}

// p(Yes) / (p(Yes) + p(No)) at the last position of `seq` (llm_mutex held).
double yes_probability(RouterShared& s, const Sequence& seq) {
    const float* logits = s.llm_session->last_logits(seq);
    const double ly = logits[s.yes.value], ln = logits[s.no.value];
    const double top = std::max(ly, ln);
    const double py = std::exp(ly - top), pn = std::exp(ln - top);
    return py / (py + pn);
}

}  // namespace

double new_matter_probability(RouterShared& s, std::string_view text, int32_t n_tokens) {
    std::lock_guard lock(s.llm_mutex);
    prepare(s);
    const Model& m = *s.model;
    if (!s.shift_head.valid()) {
        if (!s.shift.ready()) {
            s.shift = make_yes_no_prompt(s, kShiftSystemPrompt, "Message: ", kShiftQuestion);
        }
        Sequence head = s.llm_session->open();
        s.llm_session->prefill({{&head, s.shift.head}});
        s.shift_head = std::move(head);
    }
    Tokens t = first_tokens(m, text, n_tokens);
    t.insert(t.end(), s.shift.tail.begin(), s.shift.tail.end());
    Sequence probe = s.llm_session->fork(s.shift_head);
    s.llm_session->prefill({{&probe, t}});
    return yes_probability(s, probe);
}

NewMatterAsker::NewMatterAsker(std::shared_ptr<RouterShared> shared, int32_t n_tokens)
    : shared_(std::move(shared)), n_tokens_(n_tokens) {
    if (!shared_ || !shared_->model) {
        throw Error(ErrorCode::invalid_argument, "router shift_llm_context needs a model");
    }
}

NewMatterAsker::~NewMatterAsker() {
    std::lock_guard lock(shared_->llm_mutex);
    list_.reset();
}

std::optional<double> NewMatterAsker::ask(std::string_view text) {
    RouterShared& s = *shared_;
    std::lock_guard lock(s.llm_mutex);
    prepare(s);
    const Model& m = *s.model;
    if (!s.context.ready()) {
        s.context =
            make_yes_no_prompt(s, kContextSystemPrompt, "Earlier messages:", kContextQuestion);
        s.context_item = m.tokenize("\n- ", false, false);
        s.context_probe = m.tokenize("\n\nNewest message: ", false, false);
    }
    try {
        if (!list_.valid()) {
            Sequence list = s.llm_session->open();
            s.llm_session->prefill({{&list, s.context.head}});
            list_ = std::move(list);
        }
        if (!pending_.empty()) {
            Tokens add;
            for (const std::string& p : pending_) {
                add.insert(add.end(), s.context_item.begin(), s.context_item.end());
                const Tokens msg = first_tokens(*s.model, p, n_tokens_);
                add.insert(add.end(), msg.begin(), msg.end());
            }
            s.llm_session->prefill({{&list_, add}});  // rolls back on failure: pending_ stays
            pending_.clear();
        }
        Tokens t = s.context_probe;
        const Tokens msg = first_tokens(*s.model, text, n_tokens_);
        t.insert(t.end(), msg.begin(), msg.end());
        t.insert(t.end(), s.context.tail.begin(), s.context.tail.end());
        Sequence probe = s.llm_session->fork(list_);
        s.llm_session->prefill({{&probe, t}});
        return yes_probability(s, probe);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::context_overflow && e.code() != ErrorCode::out_of_memory) throw;
        return std::nullopt;
    }
}

PairJudge::PairJudge(std::shared_ptr<RouterShared> shared, int32_t n_tokens, int32_t window)
    : shared_(std::move(shared)), n_tokens_(n_tokens), window_(window) {
    if (!shared_ || !shared_->model) {
        throw Error(ErrorCode::invalid_argument, "router pair needs a model");
    }
}

PairJudge::~PairJudge() {
    std::lock_guard lock(shared_->llm_mutex);
    prefixes_.clear();
}

void PairJudge::note(std::string_view text) {
    pending_.emplace_back(text);
    const auto kept = static_cast<int32_t>(prefixes_.size() + pending_.size());
    if (kept <= window_) return;
    std::lock_guard lock(shared_->llm_mutex);  // the oldest goes: its sequence is freed
    if (!prefixes_.empty()) {
        prefixes_.erase(prefixes_.begin());
    } else {
        pending_.erase(pending_.begin());
    }
    ++first_kept_;
}

std::optional<std::vector<double>> PairJudge::ask(std::string_view text) {
    RouterShared& s = *shared_;
    std::lock_guard lock(s.llm_mutex);
    prepare(s);
    const Model& m = *s.model;
    if (!s.pair.ready()) {
        s.pair = make_yes_no_prompt(s, kPairSystemPrompt, "First message: ", kPairQuestion);
        s.pair_middle = m.tokenize("\n\nSecond message: ", false, false);
    }
    std::vector<Sequence> probes;
    try {
        if (!pending_.empty()) {
            std::vector<Sequence> added;
            std::vector<Tokens> tokens;
            for (const std::string& p : pending_) {
                Tokens t = s.pair.head;
                const Tokens msg = first_tokens(*s.model, p, n_tokens_);
                t.insert(t.end(), msg.begin(), msg.end());
                t.insert(t.end(), s.pair_middle.begin(), s.pair_middle.end());
                tokens.push_back(std::move(t));
                added.push_back(s.llm_session->open());
            }
            std::vector<PrefillItem> items;
            for (size_t i = 0; i < added.size(); ++i) items.push_back({&added[i], tokens[i]});
            s.llm_session->prefill(items);  // rolls back on failure: pending_ stays
            for (Sequence& q : added) prefixes_.push_back(std::move(q));
            pending_.clear();
        }
        Tokens t = first_tokens(m, text, n_tokens_);
        t.insert(t.end(), s.pair.tail.begin(), s.pair.tail.end());
        for (const Sequence& q : prefixes_) probes.push_back(s.llm_session->fork(q));
        std::vector<PrefillItem> items;
        for (Sequence& q : probes) items.push_back({&q, t});
        if (!items.empty()) s.llm_session->prefill(items);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::context_overflow && e.code() != ErrorCode::out_of_memory) throw;
        return std::nullopt;
    }
    std::vector<double> p;
    for (const Sequence& q : probes) p.push_back(yes_probability(s, q));
    return p;
}

LlmRouter::LlmRouter(std::shared_ptr<RouterShared> shared) : shared_(std::move(shared)) {
    if (!shared_ || !shared_->model) {
        throw Error(ErrorCode::invalid_argument, "router llm needs a model");
    }
}

LlmRouter::~LlmRouter() {
    std::lock_guard lock(shared_->llm_mutex);
    probe_.reset();
    history_.reset();
}

Tokens LlmRouter::message_tokens(std::string_view text) const {
    return first_tokens(*shared_->model, text, shared_->options.llm_turn_tokens);
}

void LlmRouter::flush() {
    RouterShared& s = *shared_;
    if (!history_.valid()) {
        history_ = s.llm_session->open();
        s.llm_session->prefill({{&history_, s.head}});
    }
    if (pending_.empty()) return;
    Tokens add;
    for (const Committed& c : pending_) {
        const Tokens msg = message_tokens(c.text);
        add.insert(add.end(), msg.begin(), msg.end());
        add.insert(add.end(), s.after_message.begin(), s.after_message.end());
        add.push_back(s.letters[std::min(c.topic, kMaxLetters - 1)]);
        add.insert(add.end(), s.after_answer.begin(), s.after_answer.end());
    }
    s.llm_session->prefill({{&history_, add}});  // rolls back on failure: pending_ stays
    pending_.clear();
}

TopicChoice LlmRouter::route(std::string_view text) {
    const auto t0 = Clock::now();
    TopicChoice c;
    if (n_topics_ == 0) {
        c.opened = true;
        c.score = 1;
        c.margin = 1;
        return c;
    }
    RouterShared& s = *shared_;
    std::lock_guard lock(s.llm_mutex);
    prepare(s);
    probe_.reset();
    probe_text_.clear();
    const int32_t max_topics = s.options.max_topics > 0 ? s.options.max_topics : kMaxLetters;
    const int32_t n_allowed = std::min(n_topics_ + (n_topics_ < max_topics ? 1 : 0), kMaxLetters);
    try {
        flush();
        probe_ = s.llm_session->fork(history_);
        Tokens t = message_tokens(text);
        t.insert(t.end(), s.after_message.begin(), s.after_message.end());
        s.llm_session->prefill({{&probe_, t}});
    } catch (const Error& e) {
        if (e.code() != ErrorCode::context_overflow && e.code() != ErrorCode::out_of_memory) throw;
        probe_.reset();
        c.topic = last_topic_;  // no room to ask: stay with the conversation's current topic
        c.route_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        return c;
    }
    probe_text_ = std::string(text);
    const float* logits = s.llm_session->last_logits(probe_);
    std::vector<double> p(static_cast<size_t>(n_allowed));
    double top = -1e300;
    for (int32_t i = 0; i < n_allowed; ++i) top = std::max(top, double{logits[s.letters[i].value]});
    double z = 0;
    for (int32_t i = 0; i < n_allowed; ++i) z += p[i] = std::exp(logits[s.letters[i].value] - top);
    int32_t best = 0;
    for (int32_t i = 0; i < n_allowed; ++i) {
        p[i] /= z;
        if (p[i] > p[best]) best = i;
    }
    double second = 0;
    for (int32_t i = 0; i < n_allowed; ++i) {
        if (i != best) second = std::max(second, p[i]);
    }
    c.topic = best;
    c.opened = best == n_topics_;
    c.score = p[best];
    c.margin = p[best] - second;
    c.llm_decided = true;
    c.route_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return c;
}

void LlmRouter::commit(int32_t topic, std::string_view text) {
    if (topic < 0 || topic > n_topics_) {
        throw Error(ErrorCode::invalid_argument, "router: topic " + std::to_string(topic) + " of " +
                                                     std::to_string(n_topics_) + " (a new one is " +
                                                     std::to_string(n_topics_) + ")");
    }
    RouterShared& s = *shared_;
    {
        std::lock_guard lock(s.llm_mutex);
        if (probe_.valid() && probe_text_ == text && pending_.empty()) {
            // The routed message is already in the probe: append the reply and keep it.
            Tokens t{s.letters[std::min(topic, kMaxLetters - 1)]};
            t.insert(t.end(), s.after_answer.begin(), s.after_answer.end());
            try {
                s.llm_session->prefill({{&probe_, t}});
                history_ = std::move(probe_);
            } catch (const Error& e) {
                if (e.code() != ErrorCode::context_overflow && e.code() != ErrorCode::out_of_memory)
                    throw;
                pending_.push_back({std::string(text), topic});
            }
        } else {
            pending_.push_back({std::string(text), topic});
        }
        probe_.reset();
        probe_text_.clear();
    }
    last_topic_ = topic;
    if (topic == n_topics_) ++n_topics_;
}

}  // namespace rdic
