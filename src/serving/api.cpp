#include "rdic/serving/api.h"

#include <nlohmann/json.hpp>

namespace rdic {

using nlohmann::json;

ApiError bad_request(const std::string& param, const std::string& message) {
    return ApiError(400, "invalid_request_error", param, message);
}

std::string ChatRequest::system_prompt() const {
    return !messages.empty() && messages.front().role == "system" ? messages.front().content
                                                                  : std::string();
}

bool is_valid_name(std::string_view name) {
    constexpr size_t kMaxNameBytes = 128;
    if (name.empty() || name.size() > kMaxNameBytes) return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '@' ||
                        c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string_view to_string(KvSource s) {
    switch (s) {
        case KvSource::none:
            return "none";
        case KvSource::resident:
            return "resident";
        case KvSource::file:
            return "file";
        case KvSource::reprefill:
            return "reprefill";
        case KvSource::prefix:
            return "prefix";
        case KvSource::upstream:
            return "upstream";
    }
    return "none";
}

namespace {

// Generated text may end inside a UTF-8 character: replace, never throw.
std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string type_name(const json& v) {
    return v.is_null() ? "null" : v.type_name();
}

const json* field(const json& obj, const char* name) {
    const auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const json& v, const std::string& param) {
    if (!v.is_string()) throw bad_request(param, param + " must be a string, not " + type_name(v));
    return v.get<std::string>();
}

bool bool_field(const json& v, const std::string& param) {
    if (!v.is_boolean()) throw bad_request(param, param + " must be true or false");
    return v.get<bool>();
}

double number_field(const json& v, const std::string& param, double lo, double hi) {
    if (!v.is_number()) throw bad_request(param, param + " must be a number, not " + type_name(v));
    const double d = v.get<double>();
    if (!(d >= lo && d <= hi)) {
        throw bad_request(param, param + " must be in [" + json(lo).dump() + ", " +
                                     json(hi).dump() + "], got " + v.dump());
    }
    return d;
}

std::string message_content(const json& c, const std::string& param) {
    if (c.is_string()) return c.get<std::string>();
    // The array form: text parts only.
    if (!c.is_array()) {
        throw bad_request(param, param + " must be a string or an array of text parts");
    }
    std::string out;
    for (size_t i = 0; i < c.size(); ++i) {
        const std::string p = param + "[" + std::to_string(i) + "]";
        if (!c[i].is_object() || c[i].value("type", "") != "text" || !c[i].contains("text") ||
            !c[i]["text"].is_string()) {
            throw bad_request(p, p + " must be {\"type\": \"text\", \"text\": \"...\"} (only text "
                                     "parts are supported)");
        }
        out += c[i]["text"].get<std::string>();
    }
    return out;
}

std::string checked_name(const json& v, const std::string& param) {
    std::string s = string_field(v, param);
    if (!is_valid_name(s)) {
        throw bad_request(param, param + " must be 1-128 characters of A-Z a-z 0-9 . _ : @ -");
    }
    return s;
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body, std::string_view header_session_id,
                               const ServeLimits& limits) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw bad_request("", "the request body is not valid JSON");
    if (!j.is_object()) throw bad_request("", "the request body must be a JSON object");
    ChatRequest r;
    if (const json* v = field(j, "model")) r.model = string_field(*v, "model");

    const json* msgs = field(j, "messages");
    if (msgs == nullptr) throw bad_request("messages", "messages is required");
    if (!msgs->is_array() || msgs->empty()) {
        throw bad_request("messages", "messages must be a non-empty array");
    }
    if (static_cast<int64_t>(msgs->size()) > limits.max_messages) {
        throw bad_request("messages", "messages has " + std::to_string(msgs->size()) +
                                          " entries; the limit is " +
                                          std::to_string(limits.max_messages));
    }
    for (size_t i = 0; i < msgs->size(); ++i) {
        const json& m = (*msgs)[i];
        const std::string p = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) throw bad_request(p, p + " must be an object");
        const json* role = field(m, "role");
        if (role == nullptr) throw bad_request(p + ".role", p + ".role is required");
        std::string rs = string_field(*role, p + ".role");
        if (rs == "developer") rs = "system";
        if (rs != "system" && rs != "user" && rs != "assistant") {
            throw bad_request(p + ".role",
                              p + ".role must be system, user or assistant, not \"" + rs + "\"");
        }
        if (rs == "system" && i != 0) {
            throw bad_request(p + ".role", p + ".role: only the first message may be a system "
                                               "message");
        }
        const json* content = field(m, "content");
        if (content == nullptr) throw bad_request(p + ".content", p + ".content is required");
        std::string text = message_content(*content, p + ".content");
        if (text.size() > limits.max_message_bytes) {
            throw bad_request(p + ".content", p + ".content has " + std::to_string(text.size()) +
                                                  " bytes; the limit is " +
                                                  std::to_string(limits.max_message_bytes));
        }
        r.messages.push_back({rs, std::move(text)});
    }
    if (r.messages.back().role != "user") {
        throw bad_request("messages[" + std::to_string(r.messages.size() - 1) + "].role",
                          "the last message must be the user's");
    }

    for (const char* name : {"max_tokens", "max_completion_tokens"}) {
        if (const json* v = field(j, name)) {
            if (!v->is_number_integer() || v->get<int64_t>() < 1 ||
                v->get<int64_t>() > limits.max_tokens) {
                throw bad_request(name, std::string(name) + " must be an integer in [1, " +
                                            std::to_string(limits.max_tokens) + "], got " +
                                            v->dump());
            }
            r.max_tokens = v->get<int32_t>();
        }
    }
    r.max_tokens = std::min(r.max_tokens, limits.max_tokens);
    if (const json* v = field(j, "temperature")) {
        r.sampling.temperature = static_cast<float>(number_field(*v, "temperature", 0, 2));
    }
    if (const json* v = field(j, "top_p")) {
        r.sampling.top_p = static_cast<float>(number_field(*v, "top_p", 0, 1));
        if (r.sampling.top_p <= 0) throw bad_request("top_p", "top_p must be greater than 0");
    }
    if (const json* v = field(j, "seed")) {
        if (!v->is_number_integer()) throw bad_request("seed", "seed must be an integer");
        r.sampling.seed = static_cast<uint32_t>(v->get<int64_t>());
    }
    if (const json* v = field(j, "n")) {
        if (!v->is_number_integer() || v->get<int64_t>() != 1) {
            throw bad_request("n", "n must be 1 (one choice per request)");
        }
    }
    if (const json* v = field(j, "stop")) {
        if (v->is_string()) {
            r.stop.push_back(v->get<std::string>());
        } else if (v->is_array()) {
            for (size_t i = 0; i < v->size(); ++i) {
                r.stop.push_back(string_field((*v)[i], "stop[" + std::to_string(i) + "]"));
            }
        } else {
            throw bad_request("stop", "stop must be a string or an array of strings");
        }
        if (static_cast<int32_t>(r.stop.size()) > limits.max_stop_strings) {
            throw bad_request("stop", "stop has more than " +
                                          std::to_string(limits.max_stop_strings) + " strings");
        }
        for (const std::string& s : r.stop) {
            if (s.empty()) throw bad_request("stop", "stop strings must not be empty");
        }
    }
    if (const json* v = field(j, "stream")) r.stream = bool_field(*v, "stream");
    if (const json* v = field(j, "stream_options")) {
        if (!v->is_object())
            throw bad_request("stream_options", "stream_options must be an object");
        if (const json* u = field(*v, "include_usage")) {
            r.stream_usage = bool_field(*u, "stream_options.include_usage");
        }
    }

    if (const json* v = field(j, "session_id")) r.session_id = checked_name(*v, "session_id");
    if (!header_session_id.empty()) {
        const std::string h(header_session_id);
        if (!is_valid_name(h)) {
            throw bad_request("X-Session-ID",
                              "the X-Session-ID header must be 1-128 characters "
                              "of A-Z a-z 0-9 . _ : @ -");
        }
        if (r.session_id && *r.session_id != h) {
            throw bad_request("session_id", "session_id \"" + *r.session_id +
                                                "\" differs from the X-Session-ID header \"" + h +
                                                "\"");
        }
        r.session_id = h;
    }
    if (const json* v = field(j, "topic")) r.topic = checked_name(*v, "topic");
    if (const json* v = field(j, "synthesis")) r.synthesis = bool_field(*v, "synthesis");
    if (const json* x = field(j, "rdic")) {
        if (!x->is_object()) throw bad_request("rdic", "rdic must be an object");
        if (const json* v = field(*x, "topic")) r.topic = checked_name(*v, "rdic.topic");
        if (const json* v = field(*x, "synthesis")) r.synthesis = bool_field(*v, "rdic.synthesis");
    }
    if ((r.topic || r.synthesis) && !r.session_id) {
        throw bad_request(r.topic ? "topic" : "synthesis",
                          std::string(r.topic ? "topic" : "synthesis") +
                              " needs a session (the X-Session-ID header or session_id)");
    }
    if (r.topic && r.synthesis) {
        throw bad_request("topic", "a synthesis request reads every topic; do not give a topic");
    }
    return r;
}

std::string error_json(const ApiError& e) {
    json err = {{"message", e.what()},
                {"type", e.type()},
                {"param", e.param().empty() ? json(nullptr) : json(e.param())},
                {"code", e.code().empty() ? json(nullptr) : json(e.code())}};
    return dump(json{{"error", err}});
}

namespace {

json usage_of(const ChatResult& r) {
    return {{"prompt_tokens", r.prompt_tokens},
            {"completion_tokens", r.completion_tokens},
            {"total_tokens", r.prompt_tokens + r.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

json rdic_of(const ChatResult& r) {
    json x = {{"cached_tokens", r.cached_tokens}, {"kv_source", to_string(r.kv_source)}};
    if (!r.session_id.empty()) {
        x["session_id"] = r.session_id;
        x["topic"] = r.routing.topic.empty() ? json(nullptr) : json(r.routing.topic);
        x["opened"] = r.first_turn;
        x["routed"] = r.routing.routed;
        if (r.routing.routed) x["score"] = r.routing.score;
        if (r.routing.opening_p >= 0) x["opening_p"] = r.routing.opening_p;
    }
    return x;
}

json envelope(const std::string& id, int64_t created_s, const std::string& model,
              const char* object) {
    return {{"id", id}, {"object", object}, {"created", created_s}, {"model", model}};
}

}  // namespace

std::string usage_json_text(const ChatResult& r) {
    return usage_of(r).dump();
}

std::string completion_json(const ChatResult& r, const std::string& id, int64_t created_s,
                            const std::string& model) {
    json j = envelope(id, created_s, model, "chat.completion");
    j["choices"] = json::array({{{"index", 0},
                                 {"message", {{"role", "assistant"}, {"content", r.text}}},
                                 {"finish_reason", r.finish_reason}}});
    j["usage"] = usage_of(r);
    j["rdic"] = rdic_of(r);
    return dump(j);
}

std::string chunk_json(const std::string& id, int64_t created_s, const std::string& model,
                       std::string_view delta, bool first) {
    json j = envelope(id, created_s, model, "chat.completion.chunk");
    json d = {{"content", std::string(delta)}};
    if (first) d["role"] = "assistant";
    j["choices"] = json::array({{{"index", 0}, {"delta", d}, {"finish_reason", nullptr}}});
    return dump(j);
}

std::string final_chunk_json(const ChatResult& r, const std::string& id, int64_t created_s,
                             const std::string& model) {
    json j = envelope(id, created_s, model, "chat.completion.chunk");
    j["choices"] = json::array(
        {{{"index", 0}, {"delta", json::object()}, {"finish_reason", r.finish_reason}}});
    j["rdic"] = rdic_of(r);
    return dump(j);
}

std::string usage_chunk_json(const ChatResult& r, const std::string& id, int64_t created_s,
                             const std::string& model) {
    json j = envelope(id, created_s, model, "chat.completion.chunk");
    j["choices"] = json::array();
    j["usage"] = usage_of(r);
    j["rdic"] = rdic_of(r);
    return dump(j);
}

}  // namespace rdic
