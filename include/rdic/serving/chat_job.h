// ChatJob: one chat request in flight between the HTTP edge and a ChatService (chat_service.h).
// Admission (admission.h) makes it; the service writes its text and its end; one HTTP thread
// reads them.
//
//   std::shared_ptr<rdic::ChatJob> job = admission.admit(std::move(request), key_hash);
//   service.submit(job);
//   std::string text; bool done = false;
//   while (!done) job->wait(&text, &done, deadline);   // streamed text as it becomes final
//   const rdic::ChatResult& r = job->result();          // throws the ApiError when it failed
//
// Thread-safety: wait/cancel/result from the reading thread, push/finish/fail from the service's
// thread; `routing` belongs to the service.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rdic/serving/admission.h"
#include "rdic/serving/api.h"

namespace rdic {

class ChatJob {
public:
    // `ticket`: the job's place in the admission counts, released when the job ends.
    ChatJob(ChatRequest request, std::string key, std::chrono::steady_clock::time_point deadline,
            AdmissionTicket ticket = {})
        : request_(std::move(request)),
          key_(std::move(key)),
          deadline_(deadline),
          ticket_(std::move(ticket)) {}

    const ChatRequest& request() const { return request_; }
    const std::string& key() const { return key_; }
    std::chrono::steady_clock::time_point deadline() const { return deadline_; }
    std::chrono::steady_clock::time_point submitted() const { return submitted_; }

    // Blocks until there is new text, the job ended, or `until`; appends the new text to *text
    // and sets *done when the job ended (result() then returns or throws).
    void wait(std::string* text, bool* done, std::chrono::steady_clock::time_point until);
    // The client went away: the service ends the request at its next step.
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }
    // After *done: the result, or throws the job's ApiError.
    const ChatResult& result() const;

    // Service side.
    std::optional<TopicDecision> routing;  // the topic, once decided (service only)
    void push(std::string_view text);
    // End the job: the admission ticket is released first, then waiters wake.
    void finish(ChatResult result);
    void fail(const ApiError& error);

private:
    ChatRequest request_;
    std::string key_;
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::steady_clock::time_point submitted_ = std::chrono::steady_clock::now();
    std::atomic<bool> cancelled_{false};
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::string pending_;
    bool done_ = false;
    ChatResult result_;
    std::optional<ApiError> error_;
    AdmissionTicket ticket_;  // guarded by mutex_
};

}  // namespace rdic
