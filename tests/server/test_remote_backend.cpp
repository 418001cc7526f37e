// `rdic run --backend URL` against a real llama-server, built from the pinned llama.cpp by
// scripts/setup.sh and started here on an ephemeral loopback port with the default model and
// --parallel 4; failures injected by killing it or by a real proxy (flaky_proxy.py) in front.
// Label `server`. Every wait is bounded; every process is killed by its Child's destructor.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rdic/build_info.h"
#include "rdic/model_paths.h"
#include "support/process.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace rdic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::Child;
using test::CliRun;
using test::wait_until;

const std::string kModel = (model_cache_dir() / build_info::kDefaultModelFile).string();
const std::string kExample = std::string(RDIC_DATA_DIR) + "/dev/edu-02.json";
// What every run here shares: the default model, greedy, few tokens, 2 threads, no evaluation.
const std::string kCommon = " --model " + kModel + " --threads 2 --no-eval --max-tokens 16 ";

// A port from a log line "listening on http://127.0.0.1:PORT" (llama-server and the proxy).
int port_in(const std::string& log) {
    std::smatch m;
    static const std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

struct Server {
    std::unique_ptr<Child> child;
    int port = 0;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

// llama-server on loopback (`port` 0: any free port), ready (GET /health 200) or a failed test.
Server start_llama_server(const fs::path& dir, const std::string& name, int port = 0) {
    Server s;
    if (!fs::exists(RDIC_LLAMA_SERVER)) {
        ADD_FAILURE() << "llama-server '" << RDIC_LLAMA_SERVER
                      << "' is missing: run ./scripts/setup.sh (it builds llama-server and "
                         "configures -DRDIC_LLAMA_SERVER)";
        return s;
    }
    s.child = std::make_unique<Child>(
        std::vector<std::string>{RDIC_LLAMA_SERVER, "-m", kModel, "--host", "127.0.0.1", "--port",
                                 std::to_string(port), "--parallel", "4", "--ctx-size", "16384",
                                 "--threads", "2", "--threads-batch", "2", "--no-warmup"},
        dir / (name + ".log"), std::vector<std::string>{"OMP_WAIT_POLICY=passive"});
    const bool up =
        wait_until(60, [&] { return port_in(s.child->log()) > 0 || !s.child->running(); });
    s.port = port_in(s.child->log());
    EXPECT_TRUE(up && s.port > 0) << "llama-server did not start:\n" << s.child->log();
    if (s.port == 0) return s;
    httplib::Client c("127.0.0.1", s.port);
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    const bool ready = wait_until(180, [&] {
        auto r = c.Get("/health");
        return r && r->status == 200;
    });
    EXPECT_TRUE(ready) << "llama-server never became healthy:\n" << s.child->log();
    return s;
}

// rdic in the foreground under coreutils' timeout: after `limit_s` it is killed and the status
// is 124 or 137, so a hang fails the test instead of blocking it.
CliRun rdic_bounded(const std::string& args, int limit_s = 900) {
    return test::run_rdic_env("OMP_WAIT_POLICY=passive timeout -k 5 " + std::to_string(limit_s),
                              args);
}

std::vector<json> records(const fs::path& dir) {
    std::vector<json> out;
    std::ifstream in(dir / "results.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
}

// (example/condition/cluster or question) -> text, from every successful record.
std::map<std::string, std::string> texts(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const json& r : records(dir)) {
        if (r["status"] != "ok") continue;
        const std::string pair =
            r["example_id"].get<std::string>() + "/" + r["condition"].get<std::string>() + "/";
        for (const json& o : r["outputs"])
            out[pair + "output " + o["cluster"].get<std::string>()] = o["text"];
        for (const json& a : r["answers"])
            out[pair + "answer " + a["question"].get<std::string>()] = a["text"];
    }
    return out;
}

class RemoteBackend : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("rdic-server-tests-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        server_ = new Server(start_llama_server(dir_, "shared"));
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
        fs::remove_all(dir_);
    }
    static inline Server* server_ = nullptr;
    static inline fs::path dir_;
};

// Measured on the 2-core VM (docs/backends.md), two runs: every output identical, 28 and 26 of 30
// answers (all differences in `sequential`'s answers: near-ties flipped by the engine's other
// batch shapes: 4 slots, prefix-cache reuse, up to 4 requests per decode vs 15 questions in one
// lockstep batch in-process). Asserted: outputs exact, answers at least 80% identical.
TEST_F(RemoteBackend, ReproducesTheInProcessGreedyOutputs) {
    ASSERT_GT(server_->port, 0);
    test::TempDir t;
    const std::string args =
        "run" + kCommon + "--answer-tokens 6 --conditions sequential,semantic --data " + kExample;
    const CliRun local = rdic_bounded(args + " --out " + (t.path() / "local").string());
    ASSERT_EQ(local.status, 0) << local.err;
    const CliRun remote = rdic_bounded(args + " --backend " + server_->url() + " --out " +
                                       (t.path() / "remote").string());
    ASSERT_EQ(remote.status, 0) << remote.err;
    EXPECT_NE(remote.out.find("remote " + server_->url()), std::string::npos) << remote.out;

    const auto a = texts(t.path() / "local"), b = texts(t.path() / "remote");
    ASSERT_EQ(a.size(), b.size());
    int n_outputs = 0, same_outputs = 0, n_answers = 0, same_answers = 0;
    for (const auto& [key, text] : b) {
        ASSERT_TRUE(a.count(key)) << key;
        const bool same = a.at(key) == text;
        const bool output = key.find("/output ") != std::string::npos;
        (output ? n_outputs : n_answers) += 1;
        (output ? same_outputs : same_answers) += same ? 1 : 0;
        if (!same) {
            std::cerr << "differs from in-process: " << key << "\n  in-process: " << a.at(key)
                      << "\n  remote:     " << text << "\n";
        }
    }
    std::cerr << "identical to in-process: outputs " << same_outputs << "/" << n_outputs
              << ", answers " << same_answers << "/" << n_answers << "\n";
    RecordProperty("same_outputs", same_outputs);
    RecordProperty("same_answers", same_answers);
    ASSERT_GT(n_outputs, 0);
    ASSERT_GT(n_answers, 0);
    EXPECT_EQ(same_outputs, n_outputs);
    EXPECT_GE(same_answers * 5, n_answers * 4) << "fewer than 80% of the answers identical";

    // The record: backend named, KV absent (null, never 0), the engine's cached tokens kept.
    const std::vector<json> recs = records(t.path() / "remote");
    ASSERT_EQ(recs.size(), 2u);
    for (const json& r : recs) {
        EXPECT_EQ(r["config"]["backend"], server_->url());
        EXPECT_TRUE(r["kv"].is_null());
        for (const json& o : r["outputs"]) {
            EXPECT_TRUE(o["kv_bytes"].is_null());
            EXPECT_TRUE(o.contains("cached_tokens")) << o.dump();
        }
    }
    std::ifstream summary(t.path() / "remote" / "summary.txt");
    std::stringstream ss;
    ss << summary.rdbuf();
    EXPECT_NE(ss.str().find("n/a"), std::string::npos) << ss.str();
}

// A real proxy in front of the shared llama-server, started with `flaky` args.
Server start_proxy(const fs::path& dir, const std::string& name, const std::string& upstream,
                   int fail, int status, bool posts_only = false) {
    Server s;
    std::vector<std::string> argv{
        RDIC_PYTHON_EXE, RDIC_FLAKY_PROXY,     "--upstream", upstream,
        "--fail",        std::to_string(fail), "--status",   std::to_string(status)};
    if (posts_only) argv.push_back("--posts-only");
    s.child = std::make_unique<Child>(argv, dir / (name + ".log"));
    EXPECT_TRUE(wait_until(30, [&] { return port_in(s.child->log()) > 0 || !s.child->running(); }))
        << s.child->log();
    s.port = port_in(s.child->log());
    EXPECT_GT(s.port, 0) << "the proxy did not start:\n" << s.child->log();
    return s;
}

json proxy_stats(const Server& proxy) {
    httplib::Client c("127.0.0.1", proxy.port);
    c.set_read_timeout(10);
    auto r = c.Get("/__stats");
    if (!r || r->status != 200) return json::object();
    return json::parse(r->body);
}

// 503 and 429 are retried with backoff and the run completes with the same outputs; what rdic
// sent carries a cache_salt shared exactly by the requests of one context.
TEST_F(RemoteBackend, RetriesThroughTransientErrorsOfARealProxy) {
    ASSERT_GT(server_->port, 0);
    test::TempDir t;
    for (int status : {503, 429}) {
        const Server proxy = start_proxy(t.path(), "proxy" + std::to_string(status), server_->url(),
                                         3, status, /*posts_only=*/true);
        ASSERT_GT(proxy.port, 0);
        const fs::path out = t.path() / ("run" + std::to_string(status));
        std::ofstream(t.path() / "key") << "test-key-4711\n";
        const CliRun r = rdic_bounded(
            "run" + kCommon + "--no-questions --conditions sequential,semantic --data " + kExample +
            " --backend " + proxy.url() + " --backend-concurrency 1 --backend-retries 4 --out " +
            out.string() + " --api-key-file " + (t.path() / "key").string());
        ASSERT_EQ(r.status, 0) << r.err;
        const json stats = proxy_stats(proxy);
        // The first completion failed 3 times and was retried (concurrency 1: nothing else ran).
        EXPECT_EQ(stats["failed"], 3) << stats.dump();
        const auto got = texts(out);
        EXPECT_FALSE(got.empty());
        for (const json& rec : records(out)) EXPECT_EQ(rec["status"], "ok") << rec.dump();
        // The key is sent as a bearer token and written nowhere.
        EXPECT_EQ(stats["auth"], json::array({"Bearer test-key-4711"})) << stats["auth"].dump();
        for (const char* f : {"results.jsonl", "config.json", "summary.txt"}) {
            std::ifstream in(out / f);
            std::stringstream content;
            content << in.rdbuf();
            EXPECT_EQ(content.str().find("test-key-4711"), std::string::npos) << f;
        }
        if (status != 503) continue;
        // Salts: sequential's outputs share the whole conversation (one salt); semantic's topics
        // each have their own context (one salt each), never a sequential one.
        std::set<std::string> all;
        for (const json& body : stats["posts"]) {
            ASSERT_TRUE(body.contains("cache_salt")) << body.dump().substr(0, 300);
            ASSERT_TRUE(body["prompt"].is_array());  // token ids, the in-process tokens
            all.insert(body["cache_salt"].get<std::string>());
        }
        const json sem = records(out)[1];
        ASSERT_EQ(sem["condition"], "semantic");
        // Distinct salts: 1 (sequential: every output shares the whole conversation) + one per
        // semantic output (each topic and the synthesis have their own context).
        EXPECT_EQ(all.size(), 1u + sem["outputs"].size()) << stats["posts"].size();
    }
}

// Retrying has an end: a proxy that always answers 503 makes every pair fail after the
// retries with an error naming the URL and the status; a 400 is not retried at all.
TEST_F(RemoteBackend, AnEngineThatKeepsFailingGivesFailedRecordsNotAHang) {
    ASSERT_GT(server_->port, 0);
    test::TempDir t;
    {
        const Server proxy = start_proxy(t.path(), "always503", server_->url(), 1000000, 503);
        const CliRun r = rdic_bounded("run" + kCommon + "--conditions semantic --data " + kExample +
                                          " --backend " + proxy.url() +
                                          " --backend-retries 2 --out " + (t.path() / "a").string(),
                                      120);
        EXPECT_EQ(r.status, 10) << r.err;  // upstream failure: the engine never answered
        EXPECT_NE(r.err.find("GET " + proxy.url() + "/v1/models: HTTP 503"), std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("after 3 attempts"), std::string::npos) << r.err;
        EXPECT_EQ(proxy_stats(proxy)["failed"], 3);
    }
    {
        // The start check passes; every completion is refused with 400: not retried, each pair
        // recorded as failed, the run goes on and exits 1.
        const Server p400 = start_proxy(t.path(), "p400", server_->url(), 1000000, 400, true);
        const fs::path out = t.path() / "b";
        const CliRun r = rdic_bounded("run" + kCommon + "--conditions sequential,semantic --data " +
                                          kExample + " --backend " + p400.url() +
                                          " --backend-concurrency 1 --out " + out.string(),
                                      120);
        EXPECT_EQ(r.status, 1) << r.err;
        const std::vector<json> recs = records(out);
        ASSERT_EQ(recs.size(), 2u);
        for (const json& rec : recs) {
            EXPECT_EQ(rec["status"], "error");
            const std::string e = rec["error"];
            EXPECT_NE(e.find("POST " + p400.url() + "/v1/completions: HTTP 400"), std::string::npos)
                << e;
            EXPECT_NE(e.find("not retried"), std::string::npos) << e;
        }
        EXPECT_EQ(proxy_stats(p400)["failed"], 2);  // one request per pair, none retried
    }
}

// Killing the engine mid-run: the pair in flight and every later pair get a failed record
// naming the URL, the run exits 1 (not a hang), and --resume against a restarted engine on the
// same port completes exactly the failed pairs; another URL is refused.
TEST_F(RemoteBackend, AKilledUpstreamGivesFailedRecordsThenResumeCompletesThem) {
    test::TempDir t;
    Server own = start_llama_server(t.path(), "own");
    ASSERT_GT(own.port, 0);
    const fs::path out = t.path() / "run";
    const std::string base = "run" + kCommon + "--no-questions --data " + kExample +
                             " --conditions sequential,prompted,semantic --backend-retries 2 "
                             "--backend-timeout 60 --out " +
                             out.string();
    const std::string args = base + " --backend " + own.url();
    Child rdic({"/bin/sh", "-c", std::string("exec ") + RDIC_BINARY + " " + args},
               t.path() / "rdic.log", {"OMP_WAIT_POLICY=passive"});
    ASSERT_TRUE(wait_until(600, [&] { return records(out).size() >= 1 || !rdic.running(); }))
        << rdic.log();
    ASSERT_TRUE(rdic.running()) << "the run ended before the engine could be killed:\n"
                                << rdic.log();
    own.child->kill(SIGKILL);
    ASSERT_TRUE(wait_until(300, [&] { return !rdic.running(); })) << "rdic hung:\n" << rdic.log();
    EXPECT_EQ(rdic.exit_status(), 1) << rdic.log();
    const std::vector<json> recs = records(out);
    ASSERT_EQ(recs.size(), 3u) << "one record per pair, none lost";
    int failed = 0;
    for (const json& r : recs) {
        if (r["status"] == "ok") continue;
        ++failed;
        const std::string e = r["error"];
        EXPECT_NE(e.find("POST " + own.url() + "/v1/completions"), std::string::npos) << e;
        EXPECT_NE(e.find("attempts"), std::string::npos) << e;
    }
    EXPECT_GE(failed, 1);
    EXPECT_LT(failed, 3);
    EXPECT_NE(rdic.log().find("pairs failed"), std::string::npos) << rdic.log();

    // Another backend is another run: refused, naming both.
    const CliRun other = rdic_bounded(base + " --resume --backend " + server_->url(), 120);
    EXPECT_EQ(other.status, 2) << other.err;
    EXPECT_NE(other.err.find("backend: " + own.url() + " vs " + server_->url()), std::string::npos)
        << other.err;
    // The same URL again (a restarted engine on the same port): the failed pairs complete.
    Server again = start_llama_server(t.path(), "again", own.port);
    ASSERT_EQ(again.port, own.port);
    const CliRun resumed = rdic_bounded(args + " --resume");
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_EQ(records(out).size(), 3u + static_cast<size_t>(failed));
}

}  // namespace
}  // namespace rdic
