#include "rdic/serving/chat_job.h"

namespace rdic {

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
        ticket_.release();
        result_ = std::move(result);
        done_ = true;
    }
    cv_.notify_all();
}

void ChatJob::fail(const ApiError& error) {
    {
        std::lock_guard lock(mutex_);
        ticket_.release();
        error_ = error;
        done_ = true;
    }
    cv_.notify_all();
}

}  // namespace rdic
