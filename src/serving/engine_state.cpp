#include "engine_state.h"

#include <algorithm>

#include "rdic/engine/sequence_file.h"
#include "rdic/error.h"
#include "rdic/serving/conversation.h"
#include "rdic/serving/session_history.h"
#include "rdic/sha256.h"

namespace rdic {

namespace {

constexpr char kSep = '\x1f';
constexpr size_t kMaxPrefixes = 8;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string session_key(const std::string& key, const std::string& sid) {
    return key + kSep + sid;
}

std::vector<std::string> stops_of(const ChatRequest& req, const ChatFormatter& chat) {
    std::vector<std::string> s = req.stop;
    s.insert(s.end(), chat.stop_strings().begin(), chat.stop_strings().end());
    return s;
}

ApiError server_error(const std::string& message) {
    return ApiError(500, "server_error", "", message);
}

// An answered request's token counts and TTFT (once it is acknowledged).
void record_answer(ServeMetrics& m, const ChatResult& res) {
    m.prompt_tokens.fetch_add(static_cast<uint64_t>(res.prompt_tokens));
    m.cached_tokens.fetch_add(static_cast<uint64_t>(res.cached_tokens));
    m.completion_tokens.fetch_add(static_cast<uint64_t>(res.completion_tokens));
    m.ttft.observe(res.ttft_ms);
}

}  // namespace

ServingEngine::State::State(std::shared_ptr<const Model> model, const EngineOptions& options,
                            ServeMetrics& metrics, SessionStore& store, std::string model_sha256)
    : model_(model),
      options_(options),
      metrics_(metrics),
      store_(store),
      model_sha256_(std::move(model_sha256)),
      session_(model, SessionOptions{.n_ctx = options.n_ctx,
                                     .n_seq_max = options.n_seq_max,
                                     .n_threads = options.n_threads,
                                     .flash_attn = options.flash_attn,
                                     .kv_layout = options.kv_layout}),
      chat_(*model, options.chat_template),
      routing_(model, options.routing) {
    gen_ = std::make_unique<Generator>(session_, generator_options());
    std::filesystem::create_directories(options_.state_dir / "kv");
    // One throw-away decode at start: the weights' pages and llama.cpp's compute buffers are
    // then ready before the first request (a restored topic's first turn paid them before).
    Sequence warm = session_.open();
    session_.prefill({{&warm, Tokens{TokenId(0)}}});  // token 0 exists in every vocabulary
}

GenerateOptions ServingEngine::State::generator_options() {
    GenerateOptions go;
    go.on_text = [this](size_t id, std::string_view text) {
        if (auto it = active_.find(id); it != active_.end()) it->second->job->push(text);
    };
    if (options_.draft) {
        if (!draft_session_) {
            draft_session_.emplace(options_.draft, SessionOptions{.n_ctx = options_.n_ctx,
                                                                  .n_seq_max = options_.n_seq_max,
                                                                  .n_threads = options_.n_threads});
        }
        go.draft = &*draft_session_;
        go.n_draft_max = options_.n_draft_max;
        go.draft_p_min = options_.draft_p_min;
    }
    return go;
}

ServingEngine::State::~State() {
    writer_.reset();  // the writes already handed over finish their jobs
    active_.clear();  // before the sequences the generator points to
    gen_.reset();
}

void ServingEngine::State::log(const std::string& line) const {
    if (options_.log) options_.log(line);
}

std::filesystem::path ServingEngine::State::kv_path(const std::string& topic_key) const {
    return options_.state_dir / "kv" / (sha256_hex(topic_key) + ".seq");
}

PromptBuilder& ServingEngine::State::builder(const std::string& system) {
    auto& b = builders_[system];
    if (!b) b = std::make_unique<PromptBuilder>(*model_, system, options_.chat_template);
    return *b;
}

Sequence ServingEngine::State::fork_prefix(const std::string& system, const Tokens& prompt) {
    Prefix& p = prefixes_[system];
    p.last_used = ++tick_;
    if (!p.seq.valid()) {
        const Tokens& head = builder(system).head();
        make_room(static_cast<int64_t>(head.size()));
        p.seq = session_.open();
        session_.prefill({{&p.seq, head}});
    }
    const auto n = static_cast<int32_t>(common_prefix(p.seq.tokens(), prompt));
    if (n == 0) return session_.open();
    return session_.fork(p.seq, n);
}

void ServingEngine::State::start(const std::shared_ptr<ChatJob>& job) {
    try {
        if (job->cancelled() || std::chrono::steady_clock::now() > job->deadline()) {
            throw ApiError(504, "timeout", "", "the request timed out before it started");
        }
        const ChatRequest& req = job->request();
        if (!req.session_id) {
            start_stateless(job);
        } else if (req.synthesis) {
            start_synthesis(job);
        } else {
            start_topic(job);
        }
    } catch (const ApiError& e) {
        end(job, e);
    } catch (const Error& e) {
        const bool full =
            e.code() == ErrorCode::out_of_memory || e.code() == ErrorCode::context_overflow;
        end(job, full ? ApiError(503, "server_error", "",
                                 std::string("the KV cache is full: ") + e.what())
                      : server_error(e.what()));
    } catch (const std::exception& e) {
        end(job, server_error(e.what()));
    }
}

void ServingEngine::State::end(const std::shared_ptr<ChatJob>& job, const ApiError& error) {
    job->fail(error);  // releases its admission count before the client can see the end
}

void ServingEngine::State::start_topic(const std::shared_ptr<ChatJob>& job) {
    const ChatRequest& req = job->request();
    const std::string& sid = *req.session_id;
    const std::string skey = session_key(job->key(), sid);
    const std::string system = req.system_prompt();
    const std::optional<SessionRecord> rec = store_.session(job->key(), sid);
    if (!rec || rec->system_prompt != system) {
        store_.upsert_session(job->key(), sid, system, now_ms());
    }

    auto a = std::make_unique<Active>();
    a->job = job;
    if (!job->routing) {  // decided once, also when the job waits behind its topic
        job->routing = routing_.decide(skey, req.topic, req.user_text(),
                                       [&] { return routing_history(store_, job->key(), sid); });
    }
    a->topic = job->routing->topic;
    a->topic_key = skey + kSep + a->topic;
    Topic& t = topics_[a->topic_key];
    if (t.busy) {  // one request per topic at a time: its turns are ordered
        t.waiting.push_back(job);
        return;
    }
    // The prompt: the topic's conversation so far and the new message. Known tokens are
    // extended by the new turn's (O(turn)); otherwise (first use since a start, a new system
    // prompt) the stored turns are rendered again.
    Tokens prompt;
    bool has_turns = false;
    if (!t.conv.empty() && t.conv_system == system) {
        prompt = t.conv;
        const Tokens next = next_turn_tokens(chat_, *model_, system, req.user_text());
        prompt.insert(prompt.end(), next.begin(), next.end());
        has_turns = true;
    } else {
        size_t n_stored = 0;
        const std::vector<ChatMessage> msgs =
            topic_messages(store_, job->key(), sid, a->topic, system, req.user_text(), &n_stored);
        prompt = conversation_tokens(chat_, *model_, msgs);
        has_turns = n_stored > 0;
    }
    a->opened = !has_turns;

    if (t.seq.valid()) {
        a->source = KvSource::resident;
    } else {
        const std::filesystem::path file = kv_path(a->topic_key);
        if (has_turns && std::filesystem::exists(file)) {
            try {
                const auto t0 = std::chrono::steady_clock::now();
                const SequenceSnapshot snap = read_sequence_file(file, model_sha256_);
                const auto t1 = std::chrono::steady_clock::now();
                make_room(static_cast<int64_t>(snap.tokens.size()));
                t.seq = session_.restore(snap);
                const auto t2 = std::chrono::steady_clock::now();
                a->source = KvSource::file;
                metrics_.restores_file.fetch_add(1);
                using Ms = std::chrono::duration<double, std::milli>;
                log("topic of session " + sid +
                    " restored from its file: " + std::to_string(snap.tokens.size()) + " tokens, " +
                    std::to_string(snap.kv.size() >> 10) + " KiB; read and verified in " +
                    std::to_string(Ms(t1 - t0).count()) + " ms, KV set in " +
                    std::to_string(Ms(t2 - t1).count()) + " ms");
            } catch (const Error& e) {
                metrics_.restore_failures.fetch_add(1);
                log(std::string("restore failed, re-prefilling from the stored turns: ") +
                    e.what());
            }
        }
        if (!t.seq.valid()) {
            a->source = has_turns ? KvSource::reprefill : KvSource::prefix;
            if (has_turns) {
                metrics_.restores_reprefill.fetch_add(1);
                log("topic of session " + sid + " re-prefilled from its " +
                    std::to_string(prompt.size()) + " tokens (no usable sequence file)");
            }
            t.seq = fork_prefix(system, prompt);
        }
    }
    t.busy = true;
    t.last_used = ++tick_;
    launch(std::move(a), &t.seq, prompt);
}

void ServingEngine::State::start_stateless(const std::shared_ptr<ChatJob>& job) {
    const ChatRequest& req = job->request();
    const Tokens prompt = conversation_tokens(chat_, *model_, req.messages);
    auto a = std::make_unique<Active>();
    a->job = job;
    Stateless* best = nullptr;
    size_t best_n = 0;
    for (Stateless& s : stateless_) {
        if (s.key != job->key()) continue;  // never across keys
        const size_t n = common_prefix(s.seq.tokens(), prompt);
        if (n > best_n) best = &s, best_n = n;
    }
    const size_t head = builder(req.system_prompt()).head().size();
    if (best != nullptr && best_n > head) {
        best->last_used = ++tick_;
        make_room(static_cast<int64_t>(prompt.size() - best_n));
        a->own = session_.fork(best->seq, static_cast<int32_t>(best_n));
        a->source = KvSource::resident;
    } else {
        a->own = fork_prefix(req.system_prompt(), prompt);
        a->source = KvSource::prefix;
    }
    Sequence* seq = &a->own;
    launch(std::move(a), seq, prompt);
}

void ServingEngine::State::start_synthesis(const std::shared_ptr<ChatJob>& job) {
    const ChatRequest& req = job->request();
    const std::string system = req.system_prompt();
    const Tokens prompt =
        synthesis_prompt(builder(system), store_, job->key(), *req.session_id, req.user_text());
    auto a = std::make_unique<Active>();
    a->job = job;
    a->topic = kSynthesisTopic;
    a->own = fork_prefix(system, prompt);
    a->source = KvSource::prefix;
    Sequence* seq = &a->own;
    launch(std::move(a), seq, prompt);
}

void ServingEngine::State::launch(std::unique_ptr<Active> a, Sequence* seq, const Tokens& prompt) {
    const ChatRequest& req = a->job->request();
    const int64_t need = static_cast<int64_t>(prompt.size()) + req.max_tokens;
    if (need > session_.n_ctx_seq()) {
        if (!a->topic_key.empty()) {
            Topic& t = topics_[a->topic_key];
            t.busy = false;
            unpark(t);
        }
        throw ApiError(400, "invalid_request_error", "messages",
                       "the conversation (" + std::to_string(prompt.size()) +
                           " tokens) plus max_tokens (" + std::to_string(req.max_tokens) +
                           ") exceeds the context of " + std::to_string(session_.n_ctx_seq()) +
                           " tokens",
                       "context_length_exceeded");
    }
    size_t n = common_prefix(seq->tokens(), prompt);
    if (n == prompt.size()) --n;  // at least one token is decoded, for its logits
    try {
        if (static_cast<int32_t>(n) < seq->n_tokens()) seq->truncate(static_cast<int32_t>(n));
    } catch (const Error&) {  // history_lost (sliding window): start the sequence again
        *seq = fork_prefix(req.system_prompt(), prompt);
        n = static_cast<size_t>(seq->n_tokens());
    }
    a->n_prompt = static_cast<int32_t>(prompt.size());
    if (!a->topic_key.empty()) a->prompt = prompt;
    a->n_cached = static_cast<int32_t>(n);
    make_room(static_cast<int64_t>(prompt.size() - n) + req.max_tokens);
    GenerationRequest g;
    g.seq = seq;
    g.prompt.assign(prompt.begin() + static_cast<std::ptrdiff_t>(n), prompt.end());
    g.sampling = req.sampling;
    g.max_tokens = req.max_tokens;
    g.stop = stops_of(req, chat_);
    a->added = std::chrono::steady_clock::now();
    const Generator::Id id = gen_->add(std::move(g));
    active_[id] = std::move(a);
}

void ServingEngine::State::step() {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, a] : active_) {
        if (a->job->cancelled() || now > a->job->deadline()) gen_->cancel(id);
    }
    try {
        gen_->step();
    } catch (const Error& e) {
        log(std::string("engine step failed, failing the requests in flight: ") + e.what());
        fail_all(ApiError(503, "server_error", "", std::string("the engine failed: ") + e.what()));
        return;
    }
    for (auto& [id, r] : gen_->take_finished()) {
        auto it = active_.find(id);
        if (it == active_.end()) continue;
        std::unique_ptr<Active> a = std::move(it->second);
        active_.erase(it);
        finish(*a, r);
    }
    enforce_budget();
}

void ServingEngine::State::finish(Active& a, GenerationResult& r) {
    Topic* t = a.topic_key.empty() ? nullptr : &topics_[a.topic_key];
    if (t != nullptr) t->last_used = ++tick_;
    bool writing = false;  // the writer thread ends the job and frees the topic
    // The draft's work counts whatever becomes of the request (0 without --draft).
    metrics_.draft_tokens.fetch_add(static_cast<uint64_t>(r.speculation.n_drafted));
    metrics_.draft_accepted_tokens.fetch_add(static_cast<uint64_t>(r.speculation.n_accepted));
    if (r.stop_reason == StopReason::cancelled) {
        end(a.job, a.job->cancelled()
                       ? ApiError(499, "invalid_request_error", "", "the client went away")
                       : ApiError(504, "timeout", "",
                                  "the request did not finish within the request timeout"));
    } else {
        ChatResult res;
        res.text = r.text;
        res.finish_reason = r.stop_reason == StopReason::max_tokens ? "length" : "stop";
        res.prompt_tokens = a.n_prompt;
        res.cached_tokens = a.n_cached;
        res.completion_tokens = static_cast<int32_t>(r.tokens.size());
        res.kv_source = a.source;
        res.ttft_ms =
            std::chrono::duration<double, std::milli>(a.added - a.job->submitted()).count() +
            r.timing.ttft_ms;
        if (a.job->request().session_id) {
            res.session_id = *a.job->request().session_id;
            res.first_turn = a.opened;
            if (a.job->routing) res.routing = *a.job->routing;  // none for a synthesis
            try {
                persist(a, t, r, std::move(res));
                writing = true;
            } catch (const std::exception& e) {
                log(std::string("could not persist a turn: ") + e.what());
                end(a.job, server_error(std::string("the turn could not be saved: ") + e.what()));
            }
        } else {
            record_answer(metrics_, res);
            a.job->finish(std::move(res));
        }
    }
    if (!a.job->request().session_id && a.own.valid()) {  // keep for prefix matching
        const Tokens& mine = a.own.tokens();
        std::erase_if(stateless_, [&](const Stateless& s) {
            return s.key == a.job->key() &&
                   common_prefix(s.seq.tokens(), mine) == s.seq.tokens().size();
        });
        stateless_.push_back({a.job->key(), std::move(a.own), ++tick_});
        while (static_cast<int32_t>(stateless_.size()) > options_.max_stateless) {
            stateless_.erase(std::min_element(
                stateless_.begin(), stateless_.end(),
                [](const Stateless& x, const Stateless& y) { return x.last_used < y.last_used; }));
        }
    }
    if (t != nullptr && !writing) {
        t->busy = false;
        unpark(*t);
    }
}

void ServingEngine::State::persist(Active& a, Topic* t, const GenerationResult& r, ChatResult res) {
    const ChatRequest& req = a.job->request();
    Exchange x{.user = req.user_text(),
               .assistant = r.text,
               .n_prompt_tokens = a.n_prompt,
               .n_cached_tokens = a.n_cached,
               .n_completion_tokens = static_cast<int32_t>(r.tokens.size()),
               .kv_file = "",
               .now_ms = now_ms()};
    // Copied out here, on the engine thread that owns the context; written on the writer's.
    std::shared_ptr<const SequenceSnapshot> snap;
    Tokens conv;
    if (t != nullptr) {
        snap = std::make_shared<const SequenceSnapshot>(session_.snapshot(t->seq));
        conv = std::move(a.prompt);
        const Tokens reply = reply_tokens(*model_, r.text);
        conv.insert(conv.end(), reply.begin(), reply.end());
    }
    writer_->post([this_metrics = &metrics_, store = &store_, sha = model_sha256_,
                   file = t != nullptr ? kv_path(a.topic_key) : std::filesystem::path(),
                   snap = std::move(snap), x = std::move(x), job = a.job, key = a.job->key(),
                   sid = *req.session_id, topic = a.topic, topic_key = a.topic_key,
                   system = req.system_prompt(), conv = std::move(conv), res = std::move(res),
                   post = post, log = options_.log]() mutable {
        ServeMetrics& metrics = *this_metrics;
        std::string error;
        try {
            // The file first: a crash between the two leaves a file ahead of the turns, which
            // the next request trims by prefix; never turns without their file's tokens.
            if (snap) {
                std::error_code ec;
                const auto old = std::filesystem::file_size(file, ec);
                const int64_t old_size = ec ? 0 : static_cast<int64_t>(old);
                write_sequence_file(file, *snap, sha);
                metrics.kv_files_written.fetch_add(1);
                metrics.kv_disk_bytes.fetch_add(
                    static_cast<int64_t>(std::filesystem::file_size(file)) - old_size);
                x.kv_file = file.string();
            }
            store->append_exchange(key, sid, topic, x);
        } catch (const std::exception& e) {
            error = e.what();
        }
        // The topic is free again before the client can see the answer (its next turn or a
        // DELETE finds it idle: both queue behind this command on the engine thread).
        if (!topic_key.empty() && post) {
            post([topic_key, ok = error.empty(), conv = std::move(conv),
                  system = std::move(system)](State& s) mutable {
                s.turn_written(topic_key, ok, std::move(conv), std::move(system));
            });
        }
        if (error.empty()) {
            record_answer(metrics, res);
            job->finish(std::move(res));
        } else {
            if (log) log("could not persist a turn: " + error);
            job->fail(server_error("the turn could not be saved: " + error));
        }
    });
}

void ServingEngine::State::turn_written(const std::string& topic_key, bool ok, Tokens conv,
                                        std::string system) {
    auto it = topics_.find(topic_key);
    if (it == topics_.end()) return;
    Topic& t = it->second;
    t.busy = false;
    if (ok) {
        t.conv = std::move(conv);
        t.conv_system = std::move(system);
    } else {  // the sequence is ahead of what is on disk: start again from the file
        t.seq.reset();
        t.conv.clear();
    }
    unpark(t);
}

void ServingEngine::State::unpark(Topic& t) {
    if (t.waiting.empty()) return;
    ready.push_front(t.waiting.front());
    t.waiting.pop_front();
    // The rest stay parked: start_topic parks them again behind the one just unparked.
    while (!t.waiting.empty()) {
        ready.push_back(t.waiting.front());
        t.waiting.pop_front();
    }
}

void ServingEngine::State::fail_all(const ApiError& error) {
    std::map<Generator::Id, std::unique_ptr<Active>> failed = std::move(active_);
    active_.clear();
    for (auto& [id, a] : failed) {
        if (!a->topic_key.empty()) {
            Topic& t = topics_[a->topic_key];
            t.busy = false;
            t.seq.reset();  // its file still holds the last acknowledged turn
            unpark(t);
        }
        end(a->job, error);
    }
    gen_ = std::make_unique<Generator>(session_, generator_options());
}

void ServingEngine::State::make_room(int64_t n_cells) {
    for (;;) {
        const int64_t free_cells = session_.n_ctx() - session_.kv_in_use().cells_full;
        const bool slots_ok = session_.n_live_sequences() + 2 <= options_.n_seq_max;
        if (free_cells >= n_cells && slots_ok) return;
        if (!evict_one()) {
            throw ApiError(503, "server_error", "",
                           "the KV cache is full (" + std::to_string(session_.n_ctx()) +
                               " cells, all held by requests in flight); retry later");
        }
    }
}

void ServingEngine::State::enforce_budget() {
    while (session_.kv_in_use().bytes > options_.kv_budget_bytes && evict_one()) {
    }
    update_gauges();
}

bool ServingEngine::State::evict_one() {
    // The least recently used idle sequence: a topic (its file is current), a stateless one or
    // an unused system prefix.
    uint64_t best = UINT64_MAX;
    Sequence* victim = nullptr;
    bool is_topic = false;
    for (auto& [k, t] : topics_) {
        if (!t.busy && t.seq.valid() && t.last_used < best) {
            best = t.last_used, victim = &t.seq, is_topic = true;
        }
    }
    for (Stateless& s : stateless_) {
        if (s.last_used < best) best = s.last_used, victim = &s.seq, is_topic = false;
    }
    for (auto& [k, p] : prefixes_) {
        if (p.seq.valid() && p.last_used < best)
            best = p.last_used, victim = &p.seq, is_topic = false;
    }
    if (victim == nullptr) return false;
    victim->reset();
    std::erase_if(stateless_, [](const Stateless& s) { return !s.seq.valid(); });
    if (is_topic) metrics_.evictions.fetch_add(1);
    return true;
}

void ServingEngine::State::update_gauges() {
    metrics_.kv_resident_bytes.store(static_cast<int64_t>(session_.kv_in_use().bytes));
    metrics_.resident_sequences.store(session_.n_live_sequences());
}

bool ServingEngine::State::delete_session(const std::string& key, const std::string& sid) {
    const std::string prefix = session_key(key, sid) + kSep;
    for (auto& [k, t] : topics_) {
        if (k.starts_with(prefix) && (t.busy || !t.waiting.empty())) {
            throw ApiError(409, "invalid_request_error", "session_id",
                           "session \"" + sid + "\" has a request in flight; delete it after");
        }
    }
    std::erase_if(topics_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
    routing_.forget(session_key(key, sid));
    const auto files = store_.delete_session(key, sid);
    if (!files) return false;
    for (const std::string& f : *files) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(f, ec);
        if (!ec && std::filesystem::remove(f, ec)) {
            metrics_.kv_disk_bytes.fetch_sub(static_cast<int64_t>(size));
        }
    }
    update_gauges();
    return true;
}

}  // namespace rdic
