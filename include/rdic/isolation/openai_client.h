// OpenAiClient: one HTTP connection to an OpenAI-compatible engine, with the retry policy of
// openai_protocol.h. The one HTTP client of rdic's remote paths: the experiment's openai backend
// (openai_backend.h) and the server's upstream forwarder (rdic/serving/upstream.h).
//
//   rdic::OpenAiClient c(rdic::parse_backend_url("http://127.0.0.1:8080"),
//                        {.api_key = key, .timeout_s = 60});
//   std::string body = c.request(url.completions_path(), rdic::completion_body(req));
//
// Failure: a connection error, a timeout, HTTP 408/429/5xx (but 501) is retried after
// backoff_s(attempt); after max_attempts sends, or at once for another status, request() throws
// UpstreamError (ErrorCode::upstream_failure) naming the URL, the last status or error and the
// number of attempts (never the API key). With a deadline, no attempt starts past it and each
// attempt's timeout is cut to what is left, so request() returns or throws by the deadline
// (plus at most one connect). Thread-safety: one thread per object (httplib clients are not
// shared); make one per worker.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "rdic/error.h"
#include "rdic/isolation/openai_protocol.h"

namespace rdic {

struct OpenAiClientOptions {
    std::string api_key;     // sent as "Authorization: Bearer ..."; "" = none
    double timeout_s = 300;  // per attempt: connect, send, wait for the whole reply
    RetryPolicy retry;
};

// An upstream request that failed for good: what the last attempt saw.
class UpstreamError : public Error {
public:
    UpstreamError(const std::string& message, int last_status, bool timed_out)
        : Error(ErrorCode::upstream_failure, message),
          last_status_(last_status),
          timed_out_(timed_out) {}
    int last_status() const { return last_status_; }  // 0: no HTTP reply (connection error)
    bool timed_out() const { return timed_out_; }     // the last attempt or the deadline ran out

private:
    int last_status_;
    bool timed_out_;
};

class OpenAiClient {
public:
    OpenAiClient(BackendUrl url, OpenAiClientOptions options);
    ~OpenAiClient();
    OpenAiClient(const OpenAiClient&) = delete;
    OpenAiClient& operator=(const OpenAiClient&) = delete;

    using Deadline = std::optional<std::chrono::steady_clock::time_point>;
    // POST `body` (non-empty) or GET `path`; returns the body of a 200 reply. Throws
    // UpstreamError as the header says.
    std::string request(const std::string& path, const std::string& body,
                        Deadline deadline = std::nullopt);

    const BackendUrl& url() const { return url_; }
    // Path of GET .../models next to the completions endpoint.
    std::string models_path() const;

private:
    struct Impl;
    BackendUrl url_;
    OpenAiClientOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rdic
