// Admission: the server's admission control, the one place that decides whether a chat request
// may enter a ChatService (chat_service.h) and when it must be over. It counts the requests in
// flight per API key and in all, refuses one above ServeLimits::max_concurrent_per_key or
// ServeLimits::max_queue with ApiError(429) (the HTTP edge answers it with
// "Retry-After: kRetryAfterS"), and stamps each admitted job with its deadline
// (ServeLimits::request_timeout_s from admission; the services end a job still running then).
//
//   rdic::Admission admission(limits, &metrics.in_flight);
//   std::shared_ptr<rdic::ChatJob> job = admission.admit(std::move(request), key_hash);  // 429
//   service.submit(job);  // the count drops when the job finishes or fails (or is destroyed)
//
// The count an admitted job holds is an AdmissionTicket inside the job; ChatJob::finish / fail
// release it before any waiter wakes, so a client that sends its next request as soon as it has
// the answer never finds the previous one still counted.
// Thread-safety: every method from any thread. Tickets may outlive the Admission that issued them
// (they share its counts); the gauge, when given, must outlive every ticket.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "rdic/serving/api.h"

namespace rdic {

class ChatJob;

// One admitted request's place in the counts; move-only, released once (explicitly or when
// destroyed). A default-constructed ticket holds nothing.
class AdmissionTicket {
public:
    AdmissionTicket() = default;
    AdmissionTicket(AdmissionTicket&& other) noexcept;
    AdmissionTicket& operator=(AdmissionTicket&& other) noexcept;
    AdmissionTicket(const AdmissionTicket&) = delete;
    AdmissionTicket& operator=(const AdmissionTicket&) = delete;
    ~AdmissionTicket() { release(); }

    void release() noexcept;  // idempotent
    bool held() const { return counts_ != nullptr; }

private:
    friend class Admission;
    struct Counts;
    AdmissionTicket(std::shared_ptr<Counts> counts, std::string key)
        : counts_(std::move(counts)), key_(std::move(key)) {}
    std::shared_ptr<Counts> counts_;
    std::string key_;
};

class Admission {
public:
    // Seconds a refused client is told to wait (the Retry-After header of every 429).
    static constexpr int32_t kRetryAfterS = 1;

    // Uses limits.max_concurrent_per_key, max_queue and request_timeout_s. `in_flight_gauge`
    // (may be null) always holds the number of requests in flight.
    explicit Admission(const ServeLimits& limits, std::atomic<int64_t>* in_flight_gauge = nullptr);

    // Counts one request of `key` (the API key's hash, "" without keys) in. Throws
    // ApiError(429, code "rate_limit_exceeded") when the key already has max_concurrent_per_key
    // in flight, else ApiError(429, code "queue_full") when max_queue are in flight; nothing is
    // counted then.
    AdmissionTicket admit_key(const std::string& key);
    // admit_key, then the job (deadline = now + request_timeout_s) holding the ticket.
    std::shared_ptr<ChatJob> admit(ChatRequest request, const std::string& key);

    std::chrono::steady_clock::time_point deadline(std::chrono::steady_clock::time_point now) const;
    int32_t in_flight() const;                        // all keys
    int32_t in_flight(const std::string& key) const;  // one key

private:
    ServeLimits limits_;
    std::shared_ptr<AdmissionTicket::Counts> counts_;
};

}  // namespace rdic
