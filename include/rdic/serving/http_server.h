// HttpServer: the HTTP edge of `rdic serve` (cpp-httplib). Checks the API key, parses requests
// into native types (api.h), admits them (admission.h: per-key concurrency, queue bound, 429 with
// Retry-After, the request deadline), calls the ChatService (chat_service.h: in-process engine or
// upstream forwarder), and writes OpenAI-shaped JSON or SSE.
//
//   rdic::HttpServer http(engine, metrics, {.host = "127.0.0.1", .port = 0});
//   int port = http.bind();       // throws invalid_argument for a refused or unavailable address
//   http.listen();                // blocks until stop() (from a signal handler's thread)
//
// Endpoints (docs/serving.md): POST /v1/chat/completions, GET /v1/models, GET /health,
// GET /metrics, GET /v1/sessions, GET and DELETE /v1/sessions/{id}.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rdic/serving/admission.h"
#include "rdic/serving/api.h"
#include "rdic/serving/chat_job.h"
#include "rdic/serving/chat_service.h"
#include "rdic/serving/metrics.h"

namespace httplib {
class Server;
}

namespace rdic {

struct HttpOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                    // 0 = any free port (bind() returns it)
    std::vector<std::string> api_keys;  // empty: no authentication
    bool allow_unauthenticated_remote = false;
    ServeLimits limits;  // body and request checks, and admission (admission.h)
    int n_http_threads = 32;
};

// Reads an API key file: one key per line; blank lines and lines starting with '#' are skipped.
// Throws file_not_found, or invalid_argument naming the file and line of a key with whitespace
// or control characters, or when the file holds no key.
std::vector<std::string> read_api_key_file(const std::string& path);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

class HttpServer {
public:
    HttpServer(ChatService& service, ServeMetrics& metrics, HttpOptions options);
    ~HttpServer();
    // Binds the socket; returns the port. Refuses a non-loopback host without API keys unless
    // allow_unauthenticated_remote (invalid_argument).
    int bind();
    void listen();
    void stop();

private:
    void routes();
    ChatService& engine_;  // the in-process engine or the upstream forwarder
    ServeMetrics& metrics_;
    HttpOptions options_;
    Admission admission_;  // in front of engine_
    std::vector<std::string> key_hashes_;
    std::unique_ptr<httplib::Server> server_;
};

}  // namespace rdic
