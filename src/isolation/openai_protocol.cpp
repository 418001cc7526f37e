#include "rdic/isolation/openai_protocol.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "rdic/error.h"
#include "rdic/printable.h"
#include "rdic/sha256.h"

namespace rdic {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad_url(const std::string& flag, const std::string& shown,
                          const std::string& why) {
    throw Error(ErrorCode::invalid_argument, flag + " " + shown + ": " + why);
}

}  // namespace

std::string BackendUrl::text_without_path() const {
    return "http://" + host + ":" + std::to_string(port);
}

std::string BackendUrl::text() const {
    return text_without_path() + base_path;
}

std::string BackendUrl::completions_path() const {
    const bool has_v1 =
        base_path.size() >= 3 && base_path.compare(base_path.size() - 3, 3, "/v1") == 0;
    return base_path + (has_v1 ? "/completions" : "/v1/completions");
}

std::string BackendUrl::embeddings_path() const {
    const std::string c = completions_path();
    return c.substr(0, c.size() - std::string("completions").size()) + "embeddings";
}

BackendUrl parse_backend_url(const std::string& url, const std::string& flag,
                             const std::string& key_flag) {
    const std::string shown = printable_path(url.substr(0, std::min<size_t>(url.size(), 200)));
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos)
        bad_url(flag, shown, "not a URL (expected http://HOST:PORT)");
    const std::string scheme = url.substr(0, scheme_end);
    if (scheme == "https") {
        bad_url(flag, shown,
                "https is not supported (rdic is built without OpenSSL); use http on "
                "loopback or a TLS-terminating proxy");
    }
    if (scheme != "http") bad_url(flag, shown, "scheme '" + scheme + "' is not http");
    std::string rest = url.substr(scheme_end + 3);
    const size_t path_start = rest.find('/');
    std::string authority = rest.substr(0, path_start);
    std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
    if (authority.find('@') != std::string::npos) {
        // Never echo the credentials: name the problem with the host part only.
        const std::string host_only = authority.substr(authority.rfind('@') + 1);
        bad_url(flag, "http://…@" + printable_path(host_only),
                "credentials in the URL are refused; put the API key in " + key_flag);
    }
    if (path.find_first_of("?#") != std::string::npos) {
        bad_url(flag, shown, "a query or fragment is not allowed (the base URL only)");
    }
    BackendUrl u;
    std::string port_text;
    if (!authority.empty() && authority[0] == '[') {
        const size_t close = authority.find(']');
        if (close == std::string::npos) bad_url(flag, shown, "unclosed '[' in the host");
        u.host = authority.substr(0, close + 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') bad_url(flag, shown, "junk after the host");
            port_text = authority.substr(close + 2);
        }
    } else {
        const size_t colon = authority.find(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    }
    if (u.host.empty() || u.host == "[]") bad_url(flag, shown, "no host");
    if (!port_text.empty()) {
        if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                                 [](char c) { return c >= '0' && c <= '9'; })) {
            bad_url(flag, shown, "port '" + printable_path(port_text) + "' is not a number");
        }
        u.port = std::stoi(port_text);
        if (u.port < 1 || u.port > 65535) bad_url(flag, shown, "port must be in [1, 65535]");
    } else if (authority.find(':') != std::string::npos && authority.back() == ':') {
        bad_url(flag, shown, "empty port");
    }
    while (!path.empty() && path.back() == '/') path.pop_back();
    u.base_path = path;
    return u;
}

bool is_retryable_status(int status) {
    return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501);
}

double backoff_s(const RetryPolicy& policy, int32_t attempt) {
    const double d = policy.initial_backoff_s * std::pow(2.0, std::max(0, attempt - 1));
    return std::min(d, policy.max_backoff_s);
}

std::string completion_body(const CompletionRequest& r) {
    json j;
    j["model"] = r.model;
    if (!r.prompt_tokens.empty()) {
        json ids = json::array();
        for (TokenId t : r.prompt_tokens) ids.push_back(t.value);
        j["prompt"] = ids;
    } else {
        j["prompt"] = r.prompt_text;
    }
    j["max_tokens"] = r.max_tokens;
    j["temperature"] = r.temperature;
    j["top_k"] = r.top_k;
    j["top_p"] = r.top_p;
    j["min_p"] = r.min_p;
    j["seed"] = r.seed;
    if (!r.stop.empty()) j["stop"] = r.stop;
    if (r.ignore_eos) j["ignore_eos"] = true;
    if (!r.cache_salt.empty()) j["cache_salt"] = r.cache_salt;
    if (!r.grammar.empty()) j["grammar"] = r.grammar;
    j["stream"] = false;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

CompletionReply parse_completion_reply(const std::string& body, const std::string& where) {
    auto fail = [&](const std::string& pointer, const std::string& why) -> void {
        throw Error(ErrorCode::upstream_failure, where + ": reply " + pointer + ": " + why +
                                                     " (body: " + body_excerpt(body) + ")");
    };
    const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) fail("/", "not a JSON object");
    if (j.contains("error")) fail("/error", "the engine reported an error");
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) {
        fail("/choices", "missing or empty");
    }
    const json& c = j["choices"][0];
    if (!c.is_object() || !c.contains("text") || !c["text"].is_string()) {
        fail("/choices/0/text", "missing or not a string");
    }
    CompletionReply r;
    r.text = c["text"].get<std::string>();
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) {
        r.finish_reason = c["finish_reason"].get<std::string>();
    } else {
        fail("/choices/0/finish_reason", "missing or not a string");
    }
    r.stopped_by_string = c.contains("stop_reason") && c["stop_reason"].is_string();
    if (!j.contains("usage") || !j["usage"].is_object()) fail("/usage", "missing");
    const json& u = j["usage"];
    auto count = [&](const json& o, const char* key, const std::string& pointer) -> int64_t {
        if (!o.contains(key) || !o[key].is_number_integer() || o[key].get<int64_t>() < 0) {
            fail(pointer, "missing or not a count");
        }
        return o[key].get<int64_t>();
    };
    r.prompt_tokens = count(u, "prompt_tokens", "/usage/prompt_tokens");
    r.completion_tokens = count(u, "completion_tokens", "/usage/completion_tokens");
    if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
        const json& d = u["prompt_tokens_details"];
        if (d.contains("cached_tokens") && d["cached_tokens"].is_number_integer()) {
            r.cached_tokens = d["cached_tokens"].get<int64_t>();
        }
    }
    if (j.contains("timings") && j["timings"].is_object()) {
        const json& t = j["timings"];
        if (t.contains("prompt_ms") && t["prompt_ms"].is_number()) {
            r.prompt_ms = t["prompt_ms"].get<double>();
        }
        if (t.contains("predicted_per_second") && t["predicted_per_second"].is_number()) {
            r.predicted_per_second = t["predicted_per_second"].get<double>();
        }
    }
    return r;
}

std::string embedding_body(const std::string& model, const std::string& text) {
    const json j = {{"model", model}, {"input", text}, {"encoding_format", "float"}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<float> parse_embedding_reply(const std::string& body, const std::string& where) {
    auto fail = [&](const std::string& pointer, const std::string& why) -> void {
        throw Error(ErrorCode::upstream_failure, where + ": reply " + pointer + ": " + why +
                                                     " (body: " + body_excerpt(body) + ")");
    };
    const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) fail("/", "not a JSON object");
    if (j.contains("error")) fail("/error", "the engine reported an error");
    if (!j.contains("data") || !j["data"].is_array() || j["data"].empty()) {
        fail("/data", "missing or empty");
    }
    const json& d = j["data"][0];
    if (!d.is_object() || !d.contains("embedding") || !d["embedding"].is_array() ||
        d["embedding"].empty()) {
        fail("/data/0/embedding", "missing, not an array or empty");
    }
    std::vector<float> v;
    v.reserve(d["embedding"].size());
    for (size_t i = 0; i < d["embedding"].size(); ++i) {
        const json& x = d["embedding"][i];
        if (!x.is_number() || !std::isfinite(x.get<double>())) {
            fail("/data/0/embedding/" + std::to_string(i), "not a finite number");
        }
        v.push_back(x.get<float>());
    }
    return v;
}

std::string cache_salt_for(std::string_view run_nonce, std::string_view example_id,
                           std::string_view condition, std::string_view context_key) {
    std::string key;
    for (std::string_view part : {run_nonce, example_id, condition, context_key}) {
        key += std::to_string(part.size()) + ":" + std::string(part) + ";";
    }
    return sha256_hex(key).substr(0, 32);
}

std::string body_excerpt(std::string_view body, size_t max_bytes) {
    std::string s(body.substr(0, max_bytes));
    for (char& ch : s) {
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    s = printable_path(s);
    if (body.size() > max_bytes) s += "…";
    return s;
}

}  // namespace rdic
