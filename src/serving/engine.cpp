#include "rdic/serving/engine.h"

#include <future>

#include "engine_state.h"
#include "rdic/error.h"
#include "rdic/sha256.h"

namespace rdic {

// ---- ChatJob ---------------------------------------------------------------------------------

void ChatJob::wait(std::string* text, bool* done, std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, until, [&] { return done_ || !pending_.empty(); });
    text->append(pending_);
    pending_.clear();
    *done = done_;
}

const ChatResult& ChatJob::result() const {
    std::lock_guard lock(mutex_);
    if (error_) throw *error_;
    return result_;
}

void ChatJob::push(std::string_view text) {
    {
        std::lock_guard lock(mutex_);
        pending_.append(text);
    }
    cv_.notify_all();
}

void ChatJob::finish(ChatResult result) {
    {
        std::lock_guard lock(mutex_);
        result_ = std::move(result);
        done_ = true;
    }
    cv_.notify_all();
}

void ChatJob::fail(const ApiError& error) {
    {
        std::lock_guard lock(mutex_);
        error_ = error;
        done_ = true;
    }
    cv_.notify_all();
}

// ---- ServingEngine ---------------------------------------------------------------------------

namespace {
// How long the engine thread sleeps when idle before looking at cancellations again.
constexpr auto kIdlePoll = std::chrono::milliseconds(100);
}  // namespace

ServingEngine::ServingEngine(std::shared_ptr<const Model> model, EngineOptions options,
                             ServeMetrics& metrics)
    : model_(std::move(model)), options_(std::move(options)), metrics_(metrics) {
    model_name_ = model_->info().path.stem().string();
    model_sha256_ = sha256_file_hex(model_->info().path);
    std::filesystem::create_directories(options_.state_dir);
    store_ = std::make_unique<SqliteSessionStore>(options_.state_dir / "sessions.sqlite3");
    int64_t disk = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(options_.state_dir / "kv", ec)) {
        if (e.is_regular_file(ec)) disk += static_cast<int64_t>(e.file_size(ec));
    }
    metrics_.kv_disk_bytes.store(disk);
    state_ = std::make_unique<State>(model_, options_, metrics_, *store_, model_sha256_);
    state_->on_end = [this](const ChatJob& job) { release(job); };
    state_->post = [this](std::function<void(State&)> command) {
        {
            std::lock_guard lock(mutex_);
            commands_.push_back(std::move(command));
        }
        cv_.notify_all();
    };
    thread_ = std::thread([this] { run(); });
}

ServingEngine::~ServingEngine() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    state_->drain_writes();  // acknowledged-to-be turns are written and answered
    const ApiError shutting(503, "server_error", "", "the server is shutting down");
    state_->fail_all(shutting);
    for (auto& job : incoming_) job->fail(shutting);
    for (auto& job : state_->ready) job->fail(shutting);
}

std::shared_ptr<ChatJob> ServingEngine::submit(ChatRequest request, const std::string& key) {
    const ServeLimits& lim = options_.limits;
    auto job = std::make_shared<ChatJob>(
        std::move(request), key,
        std::chrono::steady_clock::now() + std::chrono::seconds(lim.request_timeout_s));
    {
        std::lock_guard lock(mutex_);
        if (stop_) throw ApiError(503, "server_error", "", "the server is shutting down");
        int32_t& mine = in_flight_per_key_[key];
        if (mine >= lim.max_concurrent_per_key) {
            throw ApiError(429, "rate_limit_exceeded", "",
                           "this API key has " + std::to_string(mine) +
                               " requests in flight; the limit is " +
                               std::to_string(lim.max_concurrent_per_key),
                           "rate_limit_exceeded");
        }
        if (in_flight_ >= lim.max_queue) {
            throw ApiError(429, "rate_limit_exceeded", "",
                           "the server has " + std::to_string(in_flight_) +
                               " requests in flight; the queue limit is " +
                               std::to_string(lim.max_queue),
                           "queue_full");
        }
        ++mine;
        ++in_flight_;
        metrics_.in_flight.store(in_flight_);
        incoming_.push_back(job);
    }
    cv_.notify_all();
    return job;
}

void ServingEngine::release(const ChatJob& job) {
    std::lock_guard lock(mutex_);
    if (--in_flight_per_key_[job.key()] <= 0) in_flight_per_key_.erase(job.key());
    --in_flight_;
    metrics_.in_flight.store(in_flight_);
}

bool ServingEngine::delete_session(const std::string& key, const std::string& session_id) {
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    {
        std::lock_guard lock(mutex_);
        if (stop_) throw ApiError(503, "server_error", "", "the server is shutting down");
        commands_.push_back([done, key, session_id](State& s) {
            try {
                done->set_value(s.delete_session(key, session_id));
            } catch (...) {
                done->set_exception(std::current_exception());
            }
        });
    }
    cv_.notify_all();
    return result.get();
}

void ServingEngine::run() {
    for (;;) {
        std::deque<std::shared_ptr<ChatJob>> incoming;
        std::deque<std::function<void(State&)>> commands;
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, kIdlePoll, [&] {
                return stop_ || !incoming_.empty() || !commands_.empty() || state_->has_work() ||
                       !state_->ready.empty();
            });
            if (stop_) return;
            incoming.swap(incoming_);
            commands.swap(commands_);
        }
        for (auto& c : commands) c(*state_);
        for (auto& job : incoming) state_->ready.push_back(std::move(job));
        // Start what is ready (a job may unpark others; those start on the next round).
        std::deque<std::shared_ptr<ChatJob>> ready;
        ready.swap(state_->ready);
        for (auto& job : ready) state_->start(job);
        if (state_->has_work()) state_->step();
    }
}

}  // namespace rdic
