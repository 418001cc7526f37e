#include "rdic/serving/http_server.h"

#include <httplib.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rdic/error.h"
#include "rdic/sha256.h"

namespace rdic {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Past the request deadline the engine ends the request itself; this grace covers a slow step.
constexpr auto kDeadlineGrace = std::chrono::seconds(30);
constexpr auto kStreamPoll = std::chrono::milliseconds(200);

std::atomic<uint64_t> g_completion_id{0};

std::string completion_id() {
    return "chatcmpl-rdic-" + std::to_string(std::time(nullptr)) + "-" +
           std::to_string(g_completion_id.fetch_add(1));
}

}  // namespace

std::vector<std::string> read_api_key_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorCode::file_not_found, path + ": cannot read the API key file");
    std::vector<std::string> keys;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        for (const char c : line) {
            if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
                throw Error(ErrorCode::invalid_argument,
                            path + ":" + std::to_string(n) +
                                ": an API key must not contain spaces or control characters");
            }
        }
        keys.push_back(line);
    }
    if (keys.empty()) {
        throw Error(ErrorCode::invalid_argument, path + ": the API key file holds no key");
    }
    return keys;
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

HttpServer::HttpServer(ChatService& engine, ServeMetrics& metrics, HttpOptions options)
    : engine_(engine),
      metrics_(metrics),
      options_(std::move(options)),
      admission_(options_.limits, &metrics_.in_flight),
      server_(std::make_unique<httplib::Server>()) {
    for (const std::string& k : options_.api_keys) key_hashes_.push_back(sha256_hex(k));
    routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
    if (options_.api_keys.empty() && !is_loopback_host(options_.host) &&
        !options_.allow_unauthenticated_remote) {
        throw Error(ErrorCode::invalid_argument,
                    "--host " + options_.host +
                        " is not a loopback address and no --api-key-file was given: refusing to "
                        "serve without authentication (pass --allow-unauthenticated-remote to "
                        "do it anyway)");
    }
    int port = options_.port;
    if (port == 0) {
        port = server_->bind_to_any_port(options_.host);
    } else if (!server_->bind_to_port(options_.host, port)) {
        port = -1;
    }
    if (port <= 0) {
        throw Error(ErrorCode::invalid_argument, "cannot listen on " + options_.host + ":" +
                                                     std::to_string(options_.port) +
                                                     " (address in use or not available)");
    }
    return port;
}

void HttpServer::listen() {
    server_->listen_after_bind();
}

void HttpServer::stop() {
    server_->stop();
}

namespace {

void send_error(httplib::Response& res, const ApiError& e, ServeMetrics& m) {
    res.status = e.status();
    if (e.status() == 429) {
        res.set_header("Retry-After", std::to_string(Admission::kRetryAfterS));
        m.requests_rejected.fetch_add(1);
    } else if (e.status() >= 500) {
        m.requests_server_error.fetch_add(1);
    } else {
        m.requests_client_error.fetch_add(1);
    }
    res.set_content(error_json(e), "application/json");
}

struct StreamState {
    std::string pending;
    bool done = false;
    bool sent_first = false;
    std::string id;
    int64_t created = 0;
};

}  // namespace

void HttpServer::routes() {
    httplib::Server& s = *server_;
    const ServeLimits lim = options_.limits;
    s.set_payload_max_length(lim.max_body_bytes);
    const int n_threads = options_.n_http_threads;
    s.new_task_queue = [n_threads] {
        return new httplib::ThreadPool(static_cast<size_t>(n_threads));
    };
    s.set_error_handler([this, lim](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 413) {
            send_error(res,
                       ApiError(413, "invalid_request_error", "",
                                "the request body exceeds the limit of " +
                                    std::to_string(lim.max_body_bytes) + " bytes"),
                       metrics_);
        } else if (res.status == 404) {
            send_error(res,
                       ApiError(404, "invalid_request_error", "",
                                "no such endpoint: " + req.method + " " + req.path),
                       metrics_);
        } else {
            send_error(
                res,
                ApiError(res.status, "invalid_request_error", "",
                         "the request could not be handled (" + req.method + " " + req.path + ")"),
                metrics_);
        }
    });
    s.set_exception_handler(
        [this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            try {
                std::rethrow_exception(ep);
            } catch (const ApiError& e) {
                send_error(res, e, metrics_);
            } catch (const std::exception& e) {
                send_error(res, ApiError(500, "server_error", "", e.what()), metrics_);
            }
        });

    // The caller's scope: the hash of its key ("" without keys). Throws 401.
    auto authorize = [this](const httplib::Request& req) -> std::string {
        if (key_hashes_.empty()) return "";
        const std::string h = req.get_header_value("Authorization");
        if (h.empty()) {
            throw ApiError(401, "invalid_request_error", "Authorization",
                           "missing API key: send the header \"Authorization: Bearer KEY\"",
                           "invalid_api_key");
        }
        if (!h.starts_with("Bearer ")) {
            throw ApiError(401, "invalid_request_error", "Authorization",
                           "the Authorization header must be \"Bearer KEY\"", "invalid_api_key");
        }
        const std::string hash = sha256_hex(h.substr(7));
        for (const std::string& k : key_hashes_) {
            if (k == hash) return hash;
        }
        throw ApiError(401, "invalid_request_error", "Authorization", "incorrect API key",
                       "invalid_api_key");
    };

    s.Get("/health", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"status":"ok"})", "application/json");
    });
    s.Get("/v1/models", [this, authorize](const httplib::Request& req, httplib::Response& res) {
        authorize(req);
        json m = {{"id", engine_.model_name()},
                  {"object", "model"},
                  {"created", 0},
                  {"owned_by", "rdic"},
                  {"rdic", {{"sha256", engine_.model_sha256()}}}};
        res.set_content(json{{"object", "list"}, {"data", json::array({m})}}.dump(),
                        "application/json");
    });
    s.Get("/metrics", [this, authorize](const httplib::Request& req, httplib::Response& res) {
        authorize(req);
        res.set_content(render_prometheus(metrics_), "text/plain; version=0.0.4");
    });
    s.Get("/v1/sessions", [this, authorize](const httplib::Request& req, httplib::Response& res) {
        const std::string key = authorize(req);
        json data = json::array();
        for (const SessionRecord& r : engine_.store().sessions(key)) {
            data.push_back({{"id", r.id},
                            {"object", "session"},
                            {"created_ms", r.created_ms},
                            {"last_used_ms", r.last_used_ms},
                            {"n_topics", r.n_topics},
                            {"n_turns", r.n_turns}});
        }
        res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    });
    s.Get(R"(/v1/sessions/([^/]+))",
          [this, authorize](const httplib::Request& req, httplib::Response& res) {
              const std::string key = authorize(req);
              const std::string id = req.matches[1];
              const auto rec = engine_.store().session(key, id);
              if (!rec) {
                  throw ApiError(404, "invalid_request_error", "session_id",
                                 "no session \"" + id + "\" for this API key");
              }
              json topics = json::array();
              for (const TopicRecord& t : engine_.store().topics(key, id)) {
                  topics.push_back({{"topic", t.topic},
                                    {"n_turns", t.n_turns},
                                    {"prompt_tokens", t.n_prompt_tokens},
                                    {"cached_tokens", t.n_cached_tokens},
                                    {"completion_tokens", t.n_completion_tokens},
                                    {"kv_on_disk", !t.kv_file.empty()},
                                    {"last_used_ms", t.last_used_ms}});
                  if (req.get_param_value("turns") == "true") {
                      json turns = json::array();
                      for (const TurnRecord& tr : engine_.store().turns(key, id, t.topic)) {
                          turns.push_back({{"role", tr.role}, {"content", tr.content}});
                      }
                      topics.back()["turns"] = turns;
                  }
              }
              res.set_content(json{{"id", rec->id},
                                   {"object", "session"},
                                   {"system_prompt", rec->system_prompt},
                                   {"created_ms", rec->created_ms},
                                   {"last_used_ms", rec->last_used_ms},
                                   {"n_turns", rec->n_turns},
                                   {"topics", topics}}
                                  .dump(-1, ' ', false, json::error_handler_t::replace),
                              "application/json");
          });
    s.Delete(R"(/v1/sessions/([^/]+))", [this, authorize](const httplib::Request& req,
                                                          httplib::Response& res) {
        const std::string key = authorize(req);
        const std::string id = req.matches[1];
        if (!engine_.delete_session(key, id)) {
            throw ApiError(404, "invalid_request_error", "session_id",
                           "no session \"" + id + "\" for this API key");
        }
        res.set_content(json{{"id", id}, {"object", "session.deleted"}, {"deleted", true}}.dump(),
                        "application/json");
    });

    s.Post("/v1/chat/completions", [this, authorize, lim](const httplib::Request& req,
                                                          httplib::Response& res) {
        const std::string key = authorize(req);
        ChatRequest cr = parse_chat_request(req.body, req.get_header_value("X-Session-ID"), lim);
        const bool stream = cr.stream;
        std::shared_ptr<ChatJob> job = admission_.admit(std::move(cr), key);  // 429
        engine_.submit(job);  // 503 when stopping; the job's count is released with it
        const auto hard = job->deadline() + kDeadlineGrace;
        auto st = std::make_shared<StreamState>();
        st->id = completion_id();
        st->created = static_cast<int64_t>(std::time(nullptr));
        // Wait for the end (or, streaming, the first text: a failure before it gets a status).
        while (!st->done && (!stream || st->pending.empty()) && Clock::now() < hard) {
            job->wait(&st->pending, &st->done, std::min(hard, Clock::now() + kStreamPoll));
            if (req.is_connection_closed()) job->cancel();
        }
        if (!st->done && (!stream || st->pending.empty())) {
            job->cancel();
            throw ApiError(504, "timeout", "", "the request did not finish in time");
        }
        if (!stream) {
            const ChatResult& r = job->result();  // throws the job's ApiError
            metrics_.requests_ok.fetch_add(1);
            res.set_content(completion_json(r, st->id, st->created, engine_.model_name()),
                            "application/json");
            return;
        }
        if (st->done) job->result();  // a failure before any text: a plain error response
        res.set_header("Cache-Control", "no-cache");
        const std::string model = engine_.model_name();
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, job, st, hard, model](size_t, httplib::DataSink& sink) {
                auto write = [&](const std::string& payload) {
                    const std::string event = "data: " + payload + "\n\n";
                    return sink.write(event.data(), event.size());
                };
                if (!st->pending.empty()) {
                    if (!write(
                            chunk_json(st->id, st->created, model, st->pending, !st->sent_first))) {
                        job->cancel();
                        return false;
                    }
                    st->sent_first = true;
                    st->pending.clear();
                }
                if (st->done) {
                    try {
                        const ChatResult& r = job->result();
                        write(final_chunk_json(r, st->id, st->created, model));
                        write(usage_chunk_json(r, st->id, st->created, model));
                        metrics_.requests_ok.fetch_add(1);
                    } catch (const ApiError& e) {
                        write(error_json(e));
                        metrics_.requests_server_error.fetch_add(1);
                    }
                    const std::string end = "data: [DONE]\n\n";
                    sink.write(end.data(), end.size());
                    sink.done();
                    return true;
                }
                if (Clock::now() > hard) job->cancel();
                job->wait(&st->pending, &st->done, Clock::now() + kStreamPoll);
                return true;
            },
            [job](bool success) {
                if (!success) job->cancel();
            });
    });
}

}  // namespace rdic
