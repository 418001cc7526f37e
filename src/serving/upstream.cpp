#include "rdic/serving/upstream.h"

#include <chrono>

#include "rdic/error.h"
#include "rdic/isolation/openai_client.h"
#include "rdic/serving/conversation.h"
#include "rdic/serving/session_history.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;
constexpr char kSep = '\x1f';

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// What the client sees when the engine failed for good.
ApiError upstream_api_error(const UpstreamError& e) {
    if (e.timed_out()) {
        return ApiError(504, "timeout", "",
                        std::string("the upstream engine did not answer in time: ") + e.what());
    }
    if (e.last_status() == 400) {
        return ApiError(400, "invalid_request_error", "messages",
                        std::string("the upstream engine refused the request: ") + e.what());
    }
    return ApiError(502, "upstream_error", "",
                    std::string("the upstream engine failed: ") + e.what(), "upstream_unavailable");
}

}  // namespace

std::string serve_cache_salt(const std::string& key_hash, const std::string& session_id,
                             const std::string& topic) {
    return cache_salt_for("rdic serve", key_hash, session_id, topic);
}

UpstreamForwarder::UpstreamForwarder(std::shared_ptr<const Model> model, UpstreamOptions options,
                                     ServeMetrics& metrics)
    : model_(std::move(model)),
      options_(std::move(options)),
      metrics_(metrics),
      url_(parse_backend_url(options_.url, "--upstream", "--upstream-key-file")),
      url_text_(url_.text()),
      chat_(*model_, options_.chat_template),
      routing_(model_, options_.routing) {
    if (options_.concurrency < 1 || options_.concurrency > 256) {
        throw Error(ErrorCode::invalid_argument, "--upstream-concurrency must be in [1, 256], is " +
                                                     std::to_string(options_.concurrency));
    }
    if (!(options_.timeout_s > 0 && options_.timeout_s <= 86400)) {
        throw Error(ErrorCode::invalid_argument, "--upstream-timeout must be in (0, 86400] s");
    }
    if (options_.retry.max_attempts < 1 || options_.retry.max_attempts > 100) {
        throw Error(ErrorCode::invalid_argument, "--upstream-retries must be in [0, 99]");
    }
    model_name_ =
        options_.served_model.empty() ? model_->info().path.stem().string() : options_.served_model;
    store_ = open_session_store(options_.store_url, options_.state_dir);
    if (options_.check_on_start) {
        OpenAiClient c(url_, {.api_key = options_.api_key,
                              .timeout_s = options_.timeout_s,
                              .retry = options_.retry});
        c.request(c.models_path(), "");
    }
    for (int32_t i = 0; i < options_.concurrency; ++i) workers_.emplace_back([this] { work(); });
}

UpstreamForwarder::~UpstreamForwarder() {
    std::deque<std::shared_ptr<ChatJob>> left;
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        left.swap(queue_);
        for (auto& [k, q] : waiting_) left.insert(left.end(), q.begin(), q.end());
        waiting_.clear();
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    for (auto& job : left)
        job->fail(ApiError(503, "server_error", "", "the server is shutting down"));
}

void UpstreamForwarder::submit(std::shared_ptr<ChatJob> job) {
    {
        std::lock_guard lock(mutex_);
        if (stop_) throw ApiError(503, "server_error", "", "the server is shutting down");
        queue_.push_back(std::move(job));
    }
    cv_.notify_one();
}

bool UpstreamForwarder::delete_session(const std::string& key, const std::string& session_id) {
    std::lock_guard lock(mutex_);
    const std::string prefix = key + kSep + session_id + kSep;
    for (const std::string& t : busy_topics_) {
        if (t.starts_with(prefix)) {
            throw ApiError(
                409, "invalid_request_error", "session_id",
                "session \"" + session_id + "\" has a request in flight; delete it after");
        }
    }
    routing_.forget(key + kSep + session_id);
    router_turns_.erase(key + kSep + session_id);
    return store_->delete_session(key, session_id).has_value();
}

void UpstreamForwarder::work() {
    OpenAiClient client(
        url_,
        {.api_key = options_.api_key, .timeout_s = options_.timeout_s, .retry = options_.retry});
    for (;;) {
        std::shared_ptr<ChatJob> job;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        serve(job, client);
    }
}

void UpstreamForwarder::serve(const std::shared_ptr<ChatJob>& job, OpenAiClient& client) {
    const ChatRequest& req = job->request();
    const std::string system = req.system_prompt();
    std::string topic_key;  // set while this job holds its topic
    std::string session_key;
    bool routed_now = false;
    bool answered = false;
    try {
        if (job->cancelled() || Clock::now() > job->deadline()) {
            throw ApiError(504, "timeout", "", "the request timed out before it started");
        }
        CompletionRequest cr;
        std::string topic;
        size_t n_stored = 0;
        {
            std::lock_guard lock(mutex_);
            if (req.session_id) session_key = job->key() + kSep + *req.session_id;
            if (!req.session_id) {
                cr.prompt_tokens = conversation_tokens(chat_, *model_, req.messages);
                cr.cache_salt = serve_cache_salt(job->key(), "", "");
            } else if (req.synthesis) {
                auto& b = builders_[system];
                if (!b)
                    b = std::make_unique<PromptBuilder>(*model_, system, options_.chat_template);
                cr.prompt_tokens =
                    synthesis_prompt(*b, *store_, job->key(), *req.session_id, req.user_text());
                topic = kSynthesisTopic;
                cr.cache_salt = serve_cache_salt(job->key(), *req.session_id, topic);
            } else {
                const std::string& sid = *req.session_id;
                const std::optional<SessionRecord> rec = store_->session(job->key(), sid);
                if (!rec || rec->system_prompt != system) {
                    store_->upsert_session(job->key(), sid, system, now_ms());
                }
                const int32_t n_turns = rec ? rec->n_turns : 0;
                if (auto seen = router_turns_.find(session_key);
                    seen != router_turns_.end() && seen->second != n_turns) {
                    routing_.forget(session_key);  // another instance wrote this session
                }
                router_turns_[session_key] = n_turns;
                if (!job->routing) {  // decided once, also when the job waits behind its topic
                    job->routing = routing_.decide(session_key, req.topic, req.user_text(), [&] {
                        return routing_history(*store_, job->key(), sid);
                    });
                    routed_now = true;
                }
                topic = job->routing->topic;
                const std::string tk = session_key + kSep + topic;
                if (busy_topics_.contains(tk)) {  // its turns are ordered: wait for the one ahead
                    waiting_[tk].push_back(job);
                    return;
                }
                busy_topics_.insert(tk);
                topic_key = tk;
                const std::vector<ChatMessage> msgs = topic_messages(
                    *store_, job->key(), sid, topic, system, req.user_text(), &n_stored);
                cr.prompt_tokens = conversation_tokens(chat_, *model_, msgs);
                cr.cache_salt = serve_cache_salt(job->key(), sid, topic);
            }
        }
        if (!options_.send_cache_salt) cr.cache_salt.clear();
        cr.model = model_name_;
        cr.max_tokens = req.max_tokens;
        cr.temperature = req.sampling.temperature;
        cr.top_k = req.sampling.top_k;
        cr.top_p = req.sampling.top_p;
        cr.min_p = req.sampling.min_p;
        cr.seed = req.sampling.seed;
        cr.stop = req.stop;
        cr.stop.insert(cr.stop.end(), chat_.stop_strings().begin(), chat_.stop_strings().end());

        const auto sent = Clock::now();
        const std::string where = url_.completions_url();
        const CompletionReply reply = parse_completion_reply(
            client.request(url_.completions_path(), completion_body(cr), job->deadline()), where);
        if (job->cancelled()) {
            throw ApiError(499, "invalid_request_error", "", "the client went away");
        }
        ChatResult res;
        res.text = reply.text;
        res.finish_reason = reply.finish_reason == "length" ? "length" : "stop";
        res.prompt_tokens = static_cast<int32_t>(reply.prompt_tokens);
        res.cached_tokens = static_cast<int32_t>(reply.cached_tokens.value_or(0));
        res.completion_tokens = static_cast<int32_t>(reply.completion_tokens);
        res.kv_source = KvSource::upstream;
        res.ttft_ms = ms_between(job->submitted(), sent) +
                      reply.prompt_ms.value_or(ms_between(sent, Clock::now()));
        if (req.session_id) {
            res.session_id = *req.session_id;
            res.first_turn = !req.synthesis && n_stored == 0;
            if (job->routing) res.routing = *job->routing;  // none for a synthesis
            store_->append_exchange(job->key(), *req.session_id, topic,
                                    Exchange{.user = req.user_text(),
                                             .assistant = reply.text,
                                             .n_prompt_tokens = res.prompt_tokens,
                                             .n_cached_tokens = res.cached_tokens,
                                             .n_completion_tokens = res.completion_tokens,
                                             .kv_file = "",
                                             .now_ms = now_ms()});
        }
        metrics_.prompt_tokens.fetch_add(static_cast<uint64_t>(res.prompt_tokens));
        metrics_.cached_tokens.fetch_add(static_cast<uint64_t>(res.cached_tokens));
        metrics_.completion_tokens.fetch_add(static_cast<uint64_t>(res.completion_tokens));
        metrics_.ttft.observe(res.ttft_ms);
        answered = true;
        if (req.session_id) {
            std::lock_guard lock(mutex_);
            if (auto seen = router_turns_.find(session_key); seen != router_turns_.end()) {
                seen->second += 2;
            }
        }
        job->push(res.text);  // emulated streaming: the whole answer as one delta
        job->finish(std::move(res));
    } catch (const ApiError& e) {
        job->fail(e);
    } catch (const UpstreamError& e) {
        if (options_.log) options_.log(e.what());
        job->fail(upstream_api_error(e));
    } catch (const Error& e) {
        if (options_.log) options_.log(e.what());
        job->fail(e.code() == ErrorCode::upstream_failure
                      ? ApiError(502, "upstream_error", "", e.what(), "upstream_bad_reply")
                      : ApiError(500, "server_error", "", e.what()));
    } catch (const std::exception& e) {
        job->fail(ApiError(500, "server_error", "", e.what()));
    }
    if (topic_key.empty()) return;
    {
        std::lock_guard lock(mutex_);
        busy_topics_.erase(topic_key);
        // A routed turn that was not stored must not stay in the router: rebuild it from the
        // store on the session's next request.
        if (routed_now && !answered) {
            routing_.forget(session_key);
            router_turns_.erase(session_key);
        }
        auto it = waiting_.find(topic_key);
        if (it != waiting_.end()) {
            // The next one of this topic goes first, the rest park again behind it.
            for (auto j = it->second.rbegin(); j != it->second.rend(); ++j) queue_.push_front(*j);
            waiting_.erase(it);
        }
    }
    cv_.notify_all();
}

}  // namespace rdic
