// TurnWriter (private to src/serving): one thread that runs the engine's durable writes (a
// topic's sequence file: write, sha256, fsync, rename; then the exchange's SQLite commit) in the
// order they were posted, so the engine thread keeps decoding every other session meanwhile.
// A turn's response waits on its task: the task itself finishes the job after the commit.
//
//   TurnWriter w;
//   w.post([snapshot = std::move(s)] { write_sequence_file(path, snapshot, sha); ... });
//
// Thread-safety: post may be called from any thread. Tasks must not throw (they report their
// own failures); the destructor runs every task already posted, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rdic {

class TurnWriter {
public:
    TurnWriter();
    ~TurnWriter();
    TurnWriter(const TurnWriter&) = delete;
    TurnWriter& operator=(const TurnWriter&) = delete;

    void post(std::function<void()> task);

private:
    void run();

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stop_ = false;
    std::thread thread_;  // last: started once the fields above exist
};

}  // namespace rdic
