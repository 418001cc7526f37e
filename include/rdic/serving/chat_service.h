// ChatService: what the HTTP edge (http_server.h) calls to answer chat requests and manage
// sessions. Two implementations: ServingEngine (engine.h: the model runs in-process, rdic keeps
// the KV) and UpstreamForwarder (upstream.h: rdic keeps sessions, routing and histories and sends
// each topic's conversation to an OpenAI-compatible engine). The HTTP layer does not know which.
//
//   rdic::ChatService& svc = engine;  // or forwarder
//   auto job = admission.admit(parse_chat_request(body, session_header, limits), key_hash);
//   svc.submit(job);
//   ... job->wait(...), job->result() as in chat_job.h
//
// Admission control (per-key concurrency, queue bound, 429, the request deadline) is in front of
// this interface, once (admission.h): a service only queues and answers the jobs it is given.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "rdic/serving/api.h"
#include "rdic/serving/chat_job.h"
#include "rdic/serving/store.h"

namespace rdic {

class ChatService {
public:
    virtual ~ChatService() = default;
    // Queues a job that Admission admitted (its key is the API key's hash, "" without keys). The
    // service ends it (ChatJob::finish or fail, by its deadline) whatever happens. Throws
    // ApiError(503) once the service is stopping (the job is then not queued).
    virtual void submit(std::shared_ptr<ChatJob> job) = 0;
    // Erases a session (memory, store, files). False when the key has no such session; throws
    // ApiError(409) while it has a request in flight.
    virtual bool delete_session(const std::string& key, const std::string& session_id) = 0;
    virtual const SessionStore& store() const = 0;
    virtual const std::string& model_name() const = 0;
    // sha256 of the model file that answers ("" when it is not known here, e.g. upstream).
    virtual const std::string& model_sha256() const = 0;
};

}  // namespace rdic
