// Admission control in front of every ChatService: per-key concurrency, the queue bound, the
// 429s and their codes, the request deadline, and the counts dropping when a job ends.
#include "rdic/serving/admission.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

#include "rdic/serving/chat_job.h"

namespace rdic {
namespace {

ServeLimits limits(int32_t per_key, int32_t queue, int32_t timeout_s = 300) {
    ServeLimits l;
    l.max_concurrent_per_key = per_key;
    l.max_queue = queue;
    l.request_timeout_s = timeout_s;
    return l;
}

// The ApiError admit_key throws, or nullopt when it admits (the ticket is then dropped).
std::optional<ApiError> refusal(Admission& a, const std::string& key) {
    try {
        a.admit_key(key).release();
    } catch (const ApiError& e) {
        return e;
    }
    return std::nullopt;
}

TEST(Admission, PerKeyLimitRefusesTheKeyWith429AndLeavesOtherKeysIn) {
    std::atomic<int64_t> gauge{0};
    Admission a(limits(2, 10), &gauge);
    AdmissionTicket t1 = a.admit_key("alice");
    AdmissionTicket t2 = a.admit_key("alice");
    try {
        a.admit_key("alice");
        FAIL() << "a third request of a key limited to 2 was admitted";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 429);
        EXPECT_EQ(e.type(), "rate_limit_exceeded");
        EXPECT_EQ(e.code(), "rate_limit_exceeded");
        EXPECT_EQ(std::string(e.what()), "this API key has 2 requests in flight; the limit is 2");
    }
    EXPECT_EQ(a.in_flight("alice"), 2);  // the refusal counted nothing
    AdmissionTicket t3 = a.admit_key("bob");
    EXPECT_EQ(a.in_flight(), 3);
    EXPECT_EQ(gauge.load(), 3);
    t1.release();
    EXPECT_FALSE(refusal(a, "alice").has_value());
}

TEST(Admission, QueueBoundCountsEveryKeyAndSaysQueueFull) {
    Admission a(limits(8, 3));
    std::vector<AdmissionTicket> held;
    for (const char* k : {"a", "b", "c"}) held.push_back(a.admit_key(k));
    const auto e = refusal(a, "d");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->status(), 429);
    EXPECT_EQ(e->code(), "queue_full");
    EXPECT_EQ(std::string(e->what()), "the server has 3 requests in flight; the queue limit is 3");
    held.pop_back();
    EXPECT_FALSE(refusal(a, "d").has_value());
}

TEST(Admission, PerKeyLimitIsCheckedBeforeTheQueue) {
    Admission a(limits(1, 1));
    AdmissionTicket t = a.admit_key("alice");
    EXPECT_EQ(refusal(a, "alice")->code(), "rate_limit_exceeded");
    EXPECT_EQ(refusal(a, "bob")->code(), "queue_full");
}

TEST(Admission, TicketReleasesOnceWhetherDestroyedMovedOrReleased) {
    std::atomic<int64_t> gauge{0};
    Admission a(limits(4, 4), &gauge);
    {
        AdmissionTicket t = a.admit_key("k");
        AdmissionTicket moved = std::move(t);
        EXPECT_FALSE(t.held());  // NOLINT(bugprone-use-after-move): the moved-from state
        EXPECT_TRUE(moved.held());
        EXPECT_EQ(a.in_flight("k"), 1);
        moved.release();
        moved.release();
        EXPECT_EQ(a.in_flight("k"), 0);
        AdmissionTicket u = a.admit_key("k");
        u = a.admit_key("k");  // the assigned-over ticket is released
        EXPECT_EQ(a.in_flight("k"), 1);
    }
    EXPECT_EQ(a.in_flight(), 0);
    EXPECT_EQ(gauge.load(), 0);
}

TEST(Admission, TicketMayOutliveItsAdmission) {
    AdmissionTicket t;
    {
        Admission a(limits(1, 1));
        t = a.admit_key("k");
    }
    t.release();  // no crash, no sanitizer report
    EXPECT_FALSE(t.held());
}

TEST(Admission, JobCarriesTheDeadlineAndItsEndReleasesTheCount) {
    std::atomic<int64_t> gauge{0};
    Admission a(limits(1, 8, 7), &gauge);
    const auto before = std::chrono::steady_clock::now();
    std::shared_ptr<ChatJob> job = a.admit(ChatRequest{}, "alice");
    const auto after = std::chrono::steady_clock::now();
    EXPECT_EQ(job->key(), "alice");
    EXPECT_GE(job->deadline(), before + std::chrono::seconds(7));
    EXPECT_LE(job->deadline(), after + std::chrono::seconds(7));
    EXPECT_EQ(a.deadline(before), before + std::chrono::seconds(7));
    EXPECT_EQ(refusal(a, "alice")->status(), 429);
    job->push("partial");  // text alone does not end the job
    EXPECT_EQ(a.in_flight("alice"), 1);
    job->finish(ChatResult{});
    EXPECT_EQ(a.in_flight("alice"), 0);  // before anyone read the result
    EXPECT_EQ(gauge.load(), 0);

    std::shared_ptr<ChatJob> failed = a.admit(ChatRequest{}, "alice");
    failed->fail(ApiError(504, "timeout", "", "late"));
    EXPECT_EQ(a.in_flight(), 0);
    failed.reset();
    EXPECT_EQ(a.in_flight(), 0);  // no second release
    std::shared_ptr<ChatJob> dropped = a.admit(ChatRequest{}, "alice");
    dropped.reset();  // a job never queued (the service refused it) gives its count back
    EXPECT_EQ(a.in_flight(), 0);
}

TEST(Admission, ConcurrentAdmitsNeverExceedTheLimits) {
    constexpr int32_t kPerKey = 3;
    constexpr int32_t kQueue = 5;
    constexpr int kThreads = 8;
    constexpr int kRounds = 500;
    std::atomic<int64_t> gauge{0};
    Admission a(limits(kPerKey, kQueue), &gauge);
    std::atomic<int> over{0};
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, key = std::string(i % 2 == 0 ? "even" : "odd")] {
            for (int r = 0; r < kRounds; ++r) {
                try {
                    AdmissionTicket t = a.admit_key(key);
                    admitted.fetch_add(1);
                    if (a.in_flight(key) > kPerKey || a.in_flight() > kQueue) over.fetch_add(1);
                } catch (const ApiError& e) {
                    if (e.status() != 429) over.fetch_add(1);
                }
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(over.load(), 0);
    EXPECT_GT(admitted.load(), 0);
    EXPECT_EQ(a.in_flight(), 0);
    EXPECT_EQ(gauge.load(), 0);
}

}  // namespace
}  // namespace rdic
