#include "rdic/isolation/openai_client.h"

#include <httplib.h>

#include <algorithm>
#include <thread>

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

std::string unbracketed(const std::string& host) {
    if (host.size() >= 2 && host.front() == '[') return host.substr(1, host.size() - 2);
    return host;
}

void set_timeouts(httplib::Client& c, double seconds) {
    const auto whole = static_cast<time_t>(seconds);
    const auto usec = static_cast<time_t>((seconds - static_cast<double>(whole)) * 1e6);
    c.set_connection_timeout(whole, usec);
    c.set_read_timeout(whole, usec);
    c.set_write_timeout(whole, usec);
}

double seconds_until(Clock::time_point t) {
    return std::chrono::duration<double>(t - Clock::now()).count();
}

}  // namespace

struct OpenAiClient::Impl {
    Impl(const BackendUrl& url) : client(unbracketed(url.host), url.port) {}
    httplib::Client client;
    httplib::Headers headers;
};

OpenAiClient::OpenAiClient(BackendUrl url, OpenAiClientOptions options)
    : url_(std::move(url)), options_(std::move(options)), impl_(std::make_unique<Impl>(url_)) {
    set_timeouts(impl_->client, options_.timeout_s);
    impl_->client.set_keep_alive(true);
    if (!options_.api_key.empty()) {
        impl_->headers.emplace("Authorization", "Bearer " + options_.api_key);
    }
}

OpenAiClient::~OpenAiClient() = default;

std::string OpenAiClient::models_path() const {
    const std::string p = url_.completions_path();
    return p.substr(0, p.size() - std::string("completions").size()) + "models";
}

std::string OpenAiClient::request(const std::string& path, const std::string& body,
                                  Deadline deadline) {
    const std::string what = (body.empty() ? "GET " : "POST ") + url_.text_without_path() + path;
    httplib::Client& c = impl_->client;
    std::string last = "no attempt";
    int last_status = 0;
    bool timed_out = false;
    const int32_t n = options_.retry.max_attempts;
    int32_t sent = 0;
    for (int32_t attempt = 1; attempt <= n; ++attempt) {
        if (deadline) {
            const double left = seconds_until(*deadline);
            if (left <= 0) {
                timed_out = true;
                last += " (then the request's deadline passed)";
                break;
            }
            set_timeouts(c, std::min(options_.timeout_s, left));
        }
        ++sent;
        httplib::Result res = body.empty() ? c.Get(path, impl_->headers)
                                           : c.Post(path, impl_->headers, body, "application/json");
        if (res && res->status == 200) return res->body;
        bool retry = true;
        if (res) {
            last_status = res->status;
            timed_out = false;
            last = "HTTP " + std::to_string(res->status) + " " + body_excerpt(res->body);
            retry = is_retryable_status(res->status);
        } else {
            last_status = 0;
            timed_out = res.error() == httplib::Error::ConnectionTimeout ||
                        res.error() == httplib::Error::Timeout;
            last = httplib::to_string(res.error());
        }
        if (!retry) {
            throw UpstreamError(
                what + ": " + last + " (not retried: the request itself is refused)", last_status,
                false);
        }
        if (attempt < n) {
            const double wait_s = backoff_s(options_.retry, attempt);
            if (deadline && seconds_until(*deadline) <= wait_s) {
                timed_out = true;
                last += " (no time left for another attempt before the request's deadline)";
                break;
            }
            std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
        }
    }
    throw UpstreamError(
        what + ": " + last + " after " + std::to_string(sent) + " attempt" + (sent == 1 ? "" : "s"),
        last_status, timed_out);
}

}  // namespace rdic
