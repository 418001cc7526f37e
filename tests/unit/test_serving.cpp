// The server's pure parts: the SQLite session store, request parsing and its errors, the
// response shapes and the Prometheus text.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "rdic/error.h"
#include "rdic/serving/api.h"
#include "rdic/serving/metrics.h"
#include "rdic/serving/store.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

using nlohmann::json;

Exchange exchange(const std::string& u, const std::string& a, const std::string& file = "") {
    return {.user = u,
            .assistant = a,
            .n_prompt_tokens = 10,
            .n_cached_tokens = 4,
            .n_completion_tokens = 3,
            .kv_file = file,
            .now_ms = 1000};
}

TEST(SessionStore, KeepsTurnsPerTopicInOrderAcrossReopen) {
    test::TempDir dir;
    const auto db = dir.path() / "s.sqlite3";
    {
        SqliteSessionStore store(db);
        store.upsert_session("k", "s1", "Be brief.", 5);
        store.append_exchange("k", "s1", "travel", exchange("u1", "a1", "/x/1.seq"));
        store.append_exchange("k", "s1", "cooking", exchange("u2", "a2"));
        store.append_exchange("k", "s1", "travel", exchange("u3", "a3", "/x/1.seq"));
    }
    SqliteSessionStore store(db);
    const auto s = store.session("k", "s1");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->system_prompt, "Be brief.");
    EXPECT_EQ(s->n_topics, 2);
    EXPECT_EQ(s->n_turns, 6);
    const auto topics = store.topics("k", "s1");
    ASSERT_EQ(topics.size(), 2u);
    EXPECT_EQ(topics[0].topic, "travel");  // in the order they were opened
    EXPECT_EQ(topics[0].n_turns, 4);
    EXPECT_EQ(topics[0].n_prompt_tokens, 20);
    EXPECT_EQ(topics[0].n_cached_tokens, 8);
    EXPECT_EQ(topics[0].kv_file, "/x/1.seq");
    const auto turns = store.turns("k", "s1", "travel");
    ASSERT_EQ(turns.size(), 4u);
    EXPECT_EQ(turns[0].role, "user");
    EXPECT_EQ(turns[0].content, "u1");
    EXPECT_EQ(turns[1].content, "a1");
    EXPECT_EQ(turns[2].content, "u3");
    EXPECT_EQ(turns[3].role, "assistant");
}

TEST(SessionStore, SessionsAreScopedByKey) {
    test::TempDir dir;
    SqliteSessionStore store(dir.path() / "s.sqlite3");
    store.append_exchange("alice", "s1", "t", exchange("secret-a", "x"));
    store.append_exchange("bob", "s1", "t", exchange("secret-b", "y"));
    EXPECT_EQ(store.turns("alice", "s1", "t")[0].content, "secret-a");
    EXPECT_EQ(store.turns("bob", "s1", "t")[0].content, "secret-b");
    EXPECT_EQ(store.sessions("alice").size(), 1u);
    EXPECT_TRUE(store.sessions("carol").empty());
    EXPECT_FALSE(store.session("carol", "s1"));
    // Deleting under one key leaves the other's session alone.
    EXPECT_FALSE(store.delete_session("carol", "s1"));
    ASSERT_TRUE(store.delete_session("alice", "s1"));
    EXPECT_TRUE(store.turns("alice", "s1", "t").empty());
    EXPECT_EQ(store.turns("bob", "s1", "t").size(), 2u);
}

TEST(SessionStore, DeleteReturnsTheKvFiles) {
    test::TempDir dir;
    SqliteSessionStore store(dir.path() / "s.sqlite3");
    store.append_exchange("k", "s", "a", exchange("u", "a", "/kv/a.seq"));
    store.append_exchange("k", "s", "b", exchange("u", "a", "/kv/b.seq"));
    store.append_exchange("k", "s", "c", exchange("u", "a"));
    EXPECT_EQ(store.all_kv_files().size(), 2u);
    const auto files = store.delete_session("k", "s");
    ASSERT_TRUE(files);
    EXPECT_EQ(files->size(), 2u);
    EXPECT_TRUE(store.all_kv_files().empty());
    EXPECT_FALSE(store.session("k", "s"));
}

TEST(SessionStore, NotADatabaseIsACorruptFileNamingIt) {
    test::TempDir dir;
    const auto f = dir.write("junk.sqlite3", std::string(4096, 'x'));
    try {
        SqliteSessionStore store(f);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::corrupt_file);
        EXPECT_NE(std::string(e.what()).find("junk.sqlite3"), std::string::npos) << e.what();
    }
}

ApiError parse_error(const std::string& body, const std::string& header = "",
                     const ServeLimits& limits = {}) {
    try {
        parse_chat_request(body, header, limits);
    } catch (const ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for " << body;
    return ApiError(0, "", "", "");
}

TEST(ChatRequestParse, ReadsTheOpenAiFieldsAndOurs) {
    const ChatRequest r = parse_chat_request(
        R"({"model":"m","messages":[{"role":"system","content":"S"},{"role":"user",
            "content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}],
            "max_tokens":7,"temperature":0.5,"seed":3,"stop":"END","stream":true,
            "stream_options":{"include_usage":true},"rdic":{"topic":"travel"}})",
        "s-1", {});
    EXPECT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.system_prompt(), "S");
    EXPECT_EQ(r.user_text(), "Hi there");
    EXPECT_EQ(r.max_tokens, 7);
    EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
    EXPECT_EQ(r.sampling.seed, 3u);
    EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.stream_usage);
    EXPECT_EQ(r.session_id, "s-1");
    EXPECT_EQ(r.topic, "travel");
    EXPECT_FALSE(r.synthesis);
}

TEST(ChatRequestParse, ErrorsNameTheField) {
    struct Case {
        std::string body, param, says;
    };
    const std::vector<Case> cases = {
        {"{", "", "not valid JSON"},
        {"[]", "", "JSON object"},
        {R"({})", "messages", "required"},
        {R"({"messages":[]})", "messages", "non-empty"},
        {R"({"messages":[{"content":"x"}]})", "messages[0].role", "required"},
        {R"({"messages":[{"role":"robot","content":"x"}]})", "messages[0].role", "robot"},
        {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content", "string"},
        {R"({"messages":[{"role":"user","content":"a"},{"role":"system","content":"b"}]})",
         "messages[1].role", "first message"},
        {R"({"messages":[{"role":"assistant","content":"a"}]})", "messages[0].role", "user's"},
        {R"({"messages":[{"role":"user","content":"a"}],"max_tokens":0})", "max_tokens", "[1,"},
        {R"({"messages":[{"role":"user","content":"a"}],"max_tokens":"5"})", "max_tokens",
         "integer"},
        {R"({"messages":[{"role":"user","content":"a"}],"temperature":3})", "temperature", "[0"},
        {R"({"messages":[{"role":"user","content":"a"}],"n":2})", "n", "must be 1"},
        {R"({"messages":[{"role":"user","content":"a"}],"stop":[1]})", "stop[0]", "string"},
        {R"({"messages":[{"role":"user","content":"a"}],"stream":"yes"})", "stream", "true or"},
        {R"({"messages":[{"role":"user","content":"a"}],"topic":"x"})", "topic", "session"},
        {R"({"messages":[{"role":"user","content":"a"}],"session_id":"a b"})", "session_id",
         "characters"},
        {R"({"messages":[{"role":"user","content":"a"}],"session_id":"s","topic":"t",
            "synthesis":true})",
         "topic", "synthesis"},
    };
    for (const Case& c : cases) {
        const ApiError e = parse_error(c.body);
        EXPECT_EQ(e.status(), 400) << c.body;
        EXPECT_EQ(e.type(), "invalid_request_error") << c.body;
        EXPECT_EQ(e.param(), c.param) << c.body << " -> " << e.what();
        EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos)
            << c.body << " -> " << e.what();
    }
}

TEST(ChatRequestParse, LimitsAreCheckedBeforeWork) {
    ServeLimits lim;
    lim.max_messages = 2;
    lim.max_tokens = 16;
    lim.max_message_bytes = 10;
    EXPECT_EQ(parse_error(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant",
        "content":"b"},{"role":"user","content":"c"}]})",
                          "", lim)
                  .param(),
              "messages");
    EXPECT_EQ(
        parse_error(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":17})", "", lim)
            .param(),
        "max_tokens");
    EXPECT_EQ(
        parse_error(R"({"messages":[{"role":"user","content":"0123456789a"}]})", "", lim).param(),
        "messages[0].content");
}

TEST(ChatRequestParse, HeaderAndBodySessionMustAgree) {
    const std::string body = R"({"messages":[{"role":"user","content":"a"}],"session_id":"x"})";
    EXPECT_EQ(parse_chat_request(body, "x", {}).session_id, "x");
    EXPECT_EQ(parse_error(body, "y").param(), "session_id");
    EXPECT_EQ(parse_error(R"({"messages":[{"role":"user","content":"a"}]})", "bad id").param(),
              "X-Session-ID");
}

TEST(ApiJson, ErrorAndCompletionShapes) {
    const json e = json::parse(
        error_json(ApiError(429, "rate_limit_exceeded", "", "slow down", "queue_full")));
    EXPECT_EQ(e["error"]["message"], "slow down");
    EXPECT_EQ(e["error"]["type"], "rate_limit_exceeded");
    EXPECT_TRUE(e["error"]["param"].is_null());
    EXPECT_EQ(e["error"]["code"], "queue_full");

    ChatResult r;
    r.text = "hi \xe2\x82";  // ends inside a UTF-8 character: replaced, not thrown
    r.finish_reason = "length";
    r.prompt_tokens = 12;
    r.cached_tokens = 9;
    r.completion_tokens = 2;
    r.session_id = "s";
    r.routing.topic = "t";
    r.kv_source = KvSource::file;
    const json c = json::parse(completion_json(r, "id1", 7, "m"));
    EXPECT_EQ(c["object"], "chat.completion");
    EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(c["usage"]["total_tokens"], 14);
    EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 9);
    EXPECT_EQ(c["rdic"]["topic"], "t");
    EXPECT_EQ(c["rdic"]["kv_source"], "file");
    const json u = json::parse(usage_chunk_json(r, "id1", 7, "m"));
    EXPECT_TRUE(u["choices"].empty());
    EXPECT_EQ(u["usage"]["completion_tokens"], 2);
}

// A synthesis answer belongs to no topic and was not routed: its result carries no decision
// (the engine once copied an empty optional decision here).
TEST(ApiJson, ASynthesisAnswerNamesNoTopic) {
    ChatResult r;
    r.session_id = "s";
    const json c = json::parse(completion_json(r, "id2", 7, "m"));
    EXPECT_TRUE(c["rdic"]["topic"].is_null());
    EXPECT_FALSE(c["rdic"]["opened"]);
    EXPECT_FALSE(c["rdic"]["routed"]);
    EXPECT_FALSE(c["rdic"].contains("score"));
}

TEST(Metrics, PrometheusTextHasCountersAndCumulativeBuckets) {
    ServeMetrics m;
    m.requests_ok = 3;
    m.evictions = 2;
    m.ttft.observe(3);
    m.ttft.observe(40);
    m.ttft.observe(1e6);
    const std::string t = render_prometheus(m);
    EXPECT_NE(t.find("rdic_requests_total{outcome=\"ok\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("rdic_kv_evictions_total 2\n"), std::string::npos);
    EXPECT_NE(t.find("rdic_time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("rdic_time_to_first_token_seconds_bucket{le=\"0.05\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("rdic_time_to_first_token_seconds_bucket{le=\"+Inf\"} 3\n"),
              std::string::npos);
    EXPECT_NE(t.find("rdic_time_to_first_token_seconds_count 3\n"), std::string::npos);
}

// The whole /metrics text for one state: the table in metrics.cpp must keep every family, its
// HELP and TYPE, its samples and their order (the text before the table, byte for byte); and
// every line parses as Prometheus text (a sample's family declared once, before it).
TEST(Metrics, PrometheusTextIsUnchangedAndParses) {
    ServeMetrics m;
    m.requests_ok = 3;
    m.requests_client_error = 1;
    m.requests_rejected = 2;
    m.requests_server_error = 4;
    m.prompt_tokens = 100;
    m.cached_tokens = 60;
    m.completion_tokens = 7;
    m.draft_tokens = 12;
    m.draft_accepted_tokens = 10;
    m.evictions = 2;
    m.restores_file = 5;
    m.restores_reprefill = 1;
    m.restore_failures = 1;
    m.kv_files_written = 9;
    m.kv_resident_bytes = 1048576;
    m.kv_disk_bytes = 123456789;
    m.resident_sequences = 3;
    m.in_flight = 1;
    m.ttft.observe(3);
    m.ttft.observe(40);
    m.ttft.observe(1e6);
    const std::string text = render_prometheus(m);
    const std::string want =
        "# HELP rdic_requests_total Chat completion requests by outcome\n"
        "# TYPE rdic_requests_total counter\n"
        "rdic_requests_total{outcome=\"ok\"} 3\n"
        "rdic_requests_total{outcome=\"client_error\"} 1\n"
        "rdic_requests_total{outcome=\"rejected\"} 2\n"
        "rdic_requests_total{outcome=\"server_error\"} 4\n"
        "# HELP rdic_prompt_tokens_total Prompt tokens of answered requests\n"
        "# TYPE rdic_prompt_tokens_total counter\n"
        "rdic_prompt_tokens_total 100\n"
        "# HELP rdic_cached_tokens_total Prompt tokens found in the KV cache (not prefilled)\n"
        "# TYPE rdic_cached_tokens_total counter\n"
        "rdic_cached_tokens_total 60\n"
        "# HELP rdic_completion_tokens_total Generated tokens\n"
        "# TYPE rdic_completion_tokens_total counter\n"
        "rdic_completion_tokens_total 7\n"
        "# HELP rdic_draft_tokens_total Tokens the draft model proposed (speculative decoding, "
        "--draft)\n"
        "# TYPE rdic_draft_tokens_total counter\n"
        "rdic_draft_tokens_total 12\n"
        "# HELP rdic_draft_accepted_tokens_total Proposed tokens the model verified and kept\n"
        "# TYPE rdic_draft_accepted_tokens_total counter\n"
        "rdic_draft_accepted_tokens_total 10\n"
        "# HELP rdic_kv_evictions_total Idle topic sequences evicted from memory\n"
        "# TYPE rdic_kv_evictions_total counter\n"
        "rdic_kv_evictions_total 2\n"
        "# HELP rdic_kv_restores_total Topic sequences brought back: from their file, or "
        "re-prefilled from stored turns\n"
        "# TYPE rdic_kv_restores_total counter\n"
        "rdic_kv_restores_total{source=\"file\"} 5\n"
        "rdic_kv_restores_total{source=\"reprefill\"} 1\n"
        "# HELP rdic_kv_restore_failures_total Sequence files that could not be used (corrupt, "
        "other model): re-prefilled instead\n"
        "# TYPE rdic_kv_restore_failures_total counter\n"
        "rdic_kv_restore_failures_total 1\n"
        "# HELP rdic_kv_files_written_total Sequence files written\n"
        "# TYPE rdic_kv_files_written_total counter\n"
        "rdic_kv_files_written_total 9\n"
        "# HELP rdic_kv_resident_bytes KV bytes held in memory by live sequences\n"
        "# TYPE rdic_kv_resident_bytes gauge\n"
        "rdic_kv_resident_bytes 1048576\n"
        "# HELP rdic_kv_disk_bytes Bytes of sequence files in the state directory\n"
        "# TYPE rdic_kv_disk_bytes gauge\n"
        "rdic_kv_disk_bytes 123456789\n"
        "# HELP rdic_resident_sequences Sequences held in memory\n"
        "# TYPE rdic_resident_sequences gauge\n"
        "rdic_resident_sequences 3\n"
        "# HELP rdic_requests_in_flight Requests queued or generating\n"
        "# TYPE rdic_requests_in_flight gauge\n"
        "rdic_requests_in_flight 1\n"
        "# HELP rdic_time_to_first_token_seconds From a request's arrival to its first generated "
        "token\n"
        "# TYPE rdic_time_to_first_token_seconds histogram\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.01\"} 1\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.025\"} 1\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.05\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.1\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.25\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"0.5\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"1\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"2.5\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"5\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"10\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"30\"} 2\n"
        "rdic_time_to_first_token_seconds_bucket{le=\"+Inf\"} 3\n"
        "rdic_time_to_first_token_seconds_sum 1000.043\n"
        "rdic_time_to_first_token_seconds_count 3\n";
    EXPECT_EQ(text, want);

    const std::regex help(R"(# HELP ([a-z_]+) \S.*)");
    const std::regex type(R"(# TYPE ([a-z_]+) (counter|gauge|histogram))");
    const std::regex sample(R"(([a-z_]+)(\{[a-z]+="[^"]*"\})? (-?[0-9.e+]+))");
    std::map<std::string, std::string> types;
    std::set<std::string> helped;
    std::istringstream in(text);
    size_t n_samples = 0;
    for (std::string l; std::getline(in, l);) {
        std::smatch g;
        if (std::regex_match(l, g, help)) {
            EXPECT_TRUE(helped.insert(g[1]).second) << "HELP twice: " << l;
        } else if (std::regex_match(l, g, type)) {
            EXPECT_TRUE(helped.contains(g[1])) << "TYPE before HELP: " << l;
            EXPECT_TRUE(types.emplace(g[1], g[2]).second) << "TYPE twice: " << l;
        } else {
            ASSERT_TRUE(std::regex_match(l, g, sample)) << "not a sample line: " << l;
            std::string family = g[1];
            for (const char* suffix : {"_bucket", "_sum", "_count"}) {
                if (!types.contains(family) && family.ends_with(suffix)) {
                    family.resize(family.size() - std::string(suffix).size());
                }
            }
            EXPECT_TRUE(types.contains(family)) << "sample of an undeclared family: " << l;
            ++n_samples;
        }
    }
    EXPECT_EQ(types.size(), 15u);
    EXPECT_EQ(n_samples, 33u);
}

}  // namespace
}  // namespace rdic
