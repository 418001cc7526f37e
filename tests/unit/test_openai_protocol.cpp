// The remote backend's wire format without a network: URLs, retries, request bodies, replies,
// cache salts (rdic/isolation/openai_protocol.h). The HTTP side runs against a real
// llama-server in tests/server.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "rdic/error.h"
#include "rdic/isolation/openai_protocol.h"

namespace rdic {
namespace {

using json = nlohmann::json;

std::string error_of(const std::string& url) {
    try {
        parse_backend_url(url);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        return e.what();
    }
    return "";
}

TEST(OpenAiProtocol, UrlsAreParsedAndNormalised) {
    BackendUrl u = parse_backend_url("http://127.0.0.1:8080");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 8080);
    EXPECT_EQ(u.text(), "http://127.0.0.1:8080");
    EXPECT_EQ(u.completions_path(), "/v1/completions");
    u = parse_backend_url("http://localhost:8000/v1/");
    EXPECT_EQ(u.text(), "http://localhost:8000/v1");
    EXPECT_EQ(u.completions_path(), "/v1/completions");
    EXPECT_EQ(u.completions_url(), "http://localhost:8000/v1/completions");
    u = parse_backend_url("http://gateway/team-a/v1");
    EXPECT_EQ(u.port, 80);
    EXPECT_EQ(u.completions_path(), "/team-a/v1/completions");
    u = parse_backend_url("http://[::1]:9000");
    EXPECT_EQ(u.host, "[::1]");
    EXPECT_EQ(u.text(), "http://[::1]:9000");
}

TEST(OpenAiProtocol, BadUrlsAreRefusedWithTheReason) {
    EXPECT_NE(error_of("127.0.0.1:8080").find("not a URL"), std::string::npos);
    EXPECT_NE(error_of("https://api.example.com").find("without OpenSSL"), std::string::npos);
    EXPECT_NE(error_of("ftp://h").find("scheme 'ftp' is not http"), std::string::npos);
    EXPECT_NE(error_of("http://:80").find("no host"), std::string::npos);
    EXPECT_NE(error_of("http://h:99999").find("port must be in [1, 65535]"), std::string::npos);
    EXPECT_NE(error_of("http://h:abc").find("port 'abc' is not a number"), std::string::npos);
    EXPECT_NE(error_of("http://h:").find("empty port"), std::string::npos);
    EXPECT_NE(error_of("http://h/v1?key=s3cret").find("query"), std::string::npos);
    // Credentials are refused and never echoed.
    const std::string why = error_of("http://user:s3cret@h:8080");
    EXPECT_NE(why.find("--api-key-file"), std::string::npos) << why;
    EXPECT_EQ(why.find("s3cret"), std::string::npos) << why;
}

TEST(OpenAiProtocol, RetriesOnTransientStatusesWithCappedDoubling) {
    for (int s : {408, 429, 500, 502, 503, 504, 599}) EXPECT_TRUE(is_retryable_status(s)) << s;
    for (int s : {200, 400, 401, 403, 404, 422, 501}) EXPECT_FALSE(is_retryable_status(s)) << s;
    const RetryPolicy p{.max_attempts = 6, .initial_backoff_s = 0.5, .max_backoff_s = 3};
    EXPECT_DOUBLE_EQ(backoff_s(p, 1), 0.5);
    EXPECT_DOUBLE_EQ(backoff_s(p, 2), 1.0);
    EXPECT_DOUBLE_EQ(backoff_s(p, 3), 2.0);
    EXPECT_DOUBLE_EQ(backoff_s(p, 4), 3.0);
    EXPECT_DOUBLE_EQ(backoff_s(p, 40), 3.0);
}

TEST(OpenAiProtocol, RequestBodyCarriesTokensSamplingStopsAndSalt) {
    CompletionRequest r;
    r.model = "m.gguf";
    r.prompt_tokens = {TokenId(1), TokenId(2), TokenId(151643)};
    r.max_tokens = 16;
    r.seed = 7;
    r.stop = {"<|im_end|>"};
    r.cache_salt = "abc";
    const json j = json::parse(completion_body(r));
    EXPECT_EQ(j["model"], "m.gguf");
    EXPECT_EQ(j["prompt"], json::array({1, 2, 151643}));
    EXPECT_EQ(j["max_tokens"], 16);
    EXPECT_EQ(j["temperature"], 0.0);
    // Sent explicitly: llama-server's own defaults (top_k 40, min_p 0.05) would differ from ours.
    EXPECT_EQ(j["top_k"], 0);
    EXPECT_EQ(j["min_p"], 0.0);
    EXPECT_EQ(j["seed"], 7);
    EXPECT_EQ(j["stop"], json::array({"<|im_end|>"}));
    EXPECT_EQ(j["cache_salt"], "abc");
    EXPECT_FALSE(j.contains("grammar"));
    EXPECT_FALSE(j.contains("ignore_eos"));
    EXPECT_EQ(j["stream"], false);
    CompletionRequest t;
    t.prompt_text = "hello";
    t.ignore_eos = true;
    const json k = json::parse(completion_body(t));
    EXPECT_EQ(k["prompt"], "hello");
    EXPECT_EQ(k["ignore_eos"], true);
    EXPECT_FALSE(k.contains("cache_salt"));
    EXPECT_FALSE(k.contains("grammar"));
    EXPECT_FALSE(k.contains("stop"));
    t.grammar = "root ::= \"x\"";
    EXPECT_EQ(json::parse(completion_body(t))["grammar"], "root ::= \"x\"");
}

TEST(OpenAiProtocol, RepliesKeepWhatTheEngineReportsAndOnlyThat) {
    // llama-server's shape: cached tokens and timings.
    const CompletionReply a = parse_completion_reply(
        R"({"choices":[{"text":"Hi","index":0,"finish_reason":"length"}],
            "usage":{"completion_tokens":4,"prompt_tokens":30,"total_tokens":34,
                     "prompt_tokens_details":{"cached_tokens":12}},
            "timings":{"prompt_ms":5.5,"predicted_per_second":80.0}})",
        "http://h:1/v1/completions");
    EXPECT_EQ(a.text, "Hi");
    EXPECT_EQ(a.finish_reason, "length");
    EXPECT_EQ(a.prompt_tokens, 30);
    EXPECT_EQ(a.completion_tokens, 4);
    EXPECT_EQ(a.cached_tokens, 12);
    EXPECT_EQ(a.prompt_ms, 5.5);
    EXPECT_EQ(a.predicted_per_second, 80.0);
    EXPECT_FALSE(a.stopped_by_string);
    // vLLM's shape: no timings, no cached tokens unless enabled; stop_reason names the string.
    const CompletionReply b = parse_completion_reply(
        R"({"choices":[{"text":"x","finish_reason":"stop","stop_reason":"\n\n"}],
            "usage":{"completion_tokens":1,"prompt_tokens":3}})",
        "u");
    EXPECT_FALSE(b.cached_tokens);
    EXPECT_FALSE(b.prompt_ms);
    EXPECT_TRUE(b.stopped_by_string);
}

TEST(OpenAiProtocol, MalformedRepliesNameTheEndpointAndTheField) {
    auto why = [](const std::string& body) {
        try {
            parse_completion_reply(body, "http://h:1/v1/completions");
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::upstream_failure);
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(why("<html>").find("http://h:1/v1/completions: reply /: not a JSON object"),
              std::string::npos);
    EXPECT_NE(why(R"({"choices":[]})").find("/choices: missing or empty"), std::string::npos);
    EXPECT_NE(why(R"({"choices":[{"finish_reason":"stop"}]})").find("/choices/0/text"),
              std::string::npos);
    EXPECT_NE(why(R"({"choices":[{"text":"a","finish_reason":"stop"}]})").find("/usage: missing"),
              std::string::npos);
    EXPECT_NE(
        why(R"({"choices":[{"text":"a","finish_reason":"stop"}],"usage":{"prompt_tokens":-1,"completion_tokens":1}})")
            .find("/usage/prompt_tokens: missing or not a count"),
        std::string::npos);
    EXPECT_NE(why(R"({"error":{"message":"boom"}})").find("/error"), std::string::npos);
}

TEST(OpenAiProtocol, SaltsSeparateContextsAndRunsButNotSharedContexts) {
    const std::string a = cache_salt_for("run1", "ex", "semantic", "topic:a");
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a, cache_salt_for("run1", "ex", "semantic", "topic:a"));  // shared context: same
    std::set<std::string> all = {a, cache_salt_for("run1", "ex", "semantic", "topic:b"),
                                 cache_salt_for("run1", "ex", "sequential", "topic:a"),
                                 cache_salt_for("run1", "ex2", "semantic", "topic:a"),
                                 cache_salt_for("run2", "ex", "semantic", "topic:a"),
                                 // length-prefixed parts: no ambiguity from concatenation
                                 cache_salt_for("run1", "ex", "semanti", "ctopic:a")};
    EXPECT_EQ(all.size(), 6u);
}

TEST(OpenAiProtocol, EmbeddingRequestAndReply) {
    const BackendUrl u = parse_backend_url("http://127.0.0.1:8080/v1");
    EXPECT_EQ(u.embeddings_path(), "/v1/embeddings");
    EXPECT_EQ(parse_backend_url("http://h:1/x").embeddings_path(), "/x/v1/embeddings");
    const json b = json::parse(embedding_body("m", "a \"quoted\" text"));
    EXPECT_EQ(b["model"], "m");
    EXPECT_EQ(b["input"], "a \"quoted\" text");
    const auto v = parse_embedding_reply(R"({"data":[{"embedding":[0.5,-1,2e-3]}]})", "E");
    ASSERT_EQ(v.size(), 3u);
    EXPECT_FLOAT_EQ(v[1], -1.0f);
    auto error_of_reply = [](const std::string& body) -> std::string {
        try {
            parse_embedding_reply(body, "http://e/v1/embeddings");
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::upstream_failure);
            return e.what();
        }
        return "";
    };
    EXPECT_NE(error_of_reply("[]").find("reply /: not a JSON object"), std::string::npos);
    EXPECT_NE(error_of_reply(R"({"data":[]})").find("/data: missing or empty"), std::string::npos);
    EXPECT_NE(error_of_reply(R"({"data":[{"embedding":[1,"x"]}]})").find("/data/0/embedding/1"),
              std::string::npos);
    EXPECT_NE(error_of_reply(R"({"error":{"message":"no"}})").find("/error"), std::string::npos);
}

}  // namespace
}  // namespace rdic
