#include "rdic/serving/admission.h"

#include <map>
#include <mutex>

#include "rdic/serving/chat_job.h"

namespace rdic {

// Shared by an Admission and its tickets.
struct AdmissionTicket::Counts {
    std::atomic<int64_t>* gauge = nullptr;
    mutable std::mutex mutex;  // guards the two below
    std::map<std::string, int32_t> per_key;
    int32_t total = 0;
};

AdmissionTicket::AdmissionTicket(AdmissionTicket&& other) noexcept
    : counts_(std::move(other.counts_)), key_(std::move(other.key_)) {
    other.counts_.reset();
}

AdmissionTicket& AdmissionTicket::operator=(AdmissionTicket&& other) noexcept {
    if (this != &other) {
        release();
        counts_ = std::move(other.counts_);
        key_ = std::move(other.key_);
        other.counts_.reset();
    }
    return *this;
}

void AdmissionTicket::release() noexcept {
    if (!counts_) return;
    {
        std::lock_guard lock(counts_->mutex);
        auto it = counts_->per_key.find(key_);
        if (it != counts_->per_key.end() && --it->second <= 0) counts_->per_key.erase(it);
        --counts_->total;
        if (counts_->gauge != nullptr) counts_->gauge->store(counts_->total);
    }
    counts_.reset();
}

Admission::Admission(const ServeLimits& limits, std::atomic<int64_t>* in_flight_gauge)
    : limits_(limits), counts_(std::make_shared<AdmissionTicket::Counts>()) {
    counts_->gauge = in_flight_gauge;
}

AdmissionTicket Admission::admit_key(const std::string& key) {
    std::lock_guard lock(counts_->mutex);
    auto it = counts_->per_key.find(key);
    const int32_t mine = it == counts_->per_key.end() ? 0 : it->second;
    if (mine >= limits_.max_concurrent_per_key) {
        throw ApiError(429, "rate_limit_exceeded", "",
                       "this API key has " + std::to_string(mine) +
                           " requests in flight; the limit is " +
                           std::to_string(limits_.max_concurrent_per_key),
                       "rate_limit_exceeded");
    }
    if (counts_->total >= limits_.max_queue) {
        throw ApiError(429, "rate_limit_exceeded", "",
                       "the server has " + std::to_string(counts_->total) +
                           " requests in flight; the queue limit is " +
                           std::to_string(limits_.max_queue),
                       "queue_full");
    }
    ++counts_->per_key[key];
    ++counts_->total;
    if (counts_->gauge != nullptr) counts_->gauge->store(counts_->total);
    return AdmissionTicket(counts_, key);
}

std::shared_ptr<ChatJob> Admission::admit(ChatRequest request, const std::string& key) {
    AdmissionTicket ticket = admit_key(key);
    return std::make_shared<ChatJob>(std::move(request), key,
                                     deadline(std::chrono::steady_clock::now()), std::move(ticket));
}

std::chrono::steady_clock::time_point Admission::deadline(
    std::chrono::steady_clock::time_point now) const {
    return now + std::chrono::seconds(limits_.request_timeout_s);
}

int32_t Admission::in_flight() const {
    std::lock_guard lock(counts_->mutex);
    return counts_->total;
}

int32_t Admission::in_flight(const std::string& key) const {
    std::lock_guard lock(counts_->mutex);
    auto it = counts_->per_key.find(key);
    return it == counts_->per_key.end() ? 0 : it->second;
}

}  // namespace rdic
