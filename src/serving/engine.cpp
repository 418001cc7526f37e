#include "rdic/serving/engine.h"

#include <future>

#include "engine_state.h"
#include "rdic/error.h"
#include "rdic/sha256.h"

namespace rdic {

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

void ServingEngine::submit(std::shared_ptr<ChatJob> job) {
    {
        std::lock_guard lock(mutex_);
        if (stop_) throw ApiError(503, "server_error", "", "the server is shutting down");
        incoming_.push_back(std::move(job));
    }
    cv_.notify_all();
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
