// ChatService: what the HTTP edge (http_server.h) calls to answer chat requests and manage
// sessions. Two implementations: ServingEngine (engine.h: the model runs in-process, rdic keeps
// the KV) and UpstreamForwarder (upstream.h: rdic keeps sessions, routing and histories and sends
// each topic's conversation to an OpenAI-compatible engine). The HTTP layer does not know which.
//
//   rdic::ChatService& svc = engine;  // or forwarder
//   auto job = svc.submit(parse_chat_request(body, session_header, limits), key_hash);
//   ... job->wait(...), job->result() as in engine.h
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "rdic/serving/api.h"
#include "rdic/serving/store.h"

namespace rdic {

class ChatJob;  // engine.h

class ChatService {
public:
    virtual ~ChatService() = default;
    // Queues a request of `key` (the API key's hash, "" without keys). Throws ApiError(429) when
    // the key has max_concurrent_per_key requests in flight or the queue holds max_queue.
    virtual std::shared_ptr<ChatJob> submit(ChatRequest request, const std::string& key) = 0;
    // Erases a session (memory, store, files). False when the key has no such session; throws
    // ApiError(409) while it has a request in flight.
    virtual bool delete_session(const std::string& key, const std::string& session_id) = 0;
    virtual const SessionStore& store() const = 0;
    virtual const std::string& model_name() const = 0;
    // sha256 of the model file that answers ("" when it is not known here, e.g. upstream).
    virtual const std::string& model_sha256() const = 0;
};

}  // namespace rdic
