#include "rdic/serving/pg_store.h"

#include "rdic/error.h"

#ifdef RDIC_HAVE_LIBPQ
#include <libpq-fe.h>

#include <mutex>
#include <vector>

namespace rdic {

namespace {

// The tables of store.cpp's SQLite schema, with 64-bit integers.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, system_prompt TEXT NOT NULL,
    created_ms BIGINT NOT NULL, last_used_ms BIGINT NOT NULL,
    PRIMARY KEY (key_hash, session_id));
CREATE TABLE IF NOT EXISTS topics (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, topic TEXT NOT NULL,
    ordinal BIGINT NOT NULL, n_turns BIGINT NOT NULL DEFAULT 0,
    n_prompt_tokens BIGINT NOT NULL DEFAULT 0, n_cached_tokens BIGINT NOT NULL DEFAULT 0,
    n_completion_tokens BIGINT NOT NULL DEFAULT 0, kv_file TEXT NOT NULL DEFAULT '',
    last_used_ms BIGINT NOT NULL,
    PRIMARY KEY (key_hash, session_id, topic));
CREATE TABLE IF NOT EXISTS turns (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, topic TEXT NOT NULL,
    ordinal BIGINT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (key_hash, session_id, topic, ordinal));
)sql";
// Instances starting together must not race on CREATE TABLE (catalog conflicts).
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7260000013)";

constexpr const char* kSessionColumns =
    "SELECT s.session_id, s.system_prompt, s.created_ms, s.last_used_ms, "
    "(SELECT COUNT(*) FROM topics t WHERE t.key_hash = s.key_hash AND t.session_id = "
    "s.session_id), (SELECT COALESCE(SUM(n_turns), 0) FROM topics t WHERE t.key_hash = "
    "s.key_hash AND t.session_id = s.session_id) FROM sessions s ";

// One query's result; cleared when it goes out of scope.
class Result {
public:
    explicit Result(PGresult* r) : r_(r) {}
    ~Result() { PQclear(r_); }
    PGresult* get_raw() const { return r_; }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    int rows() const { return PQntuples(r_); }
    std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
    int64_t int64(int row, int col) const { return std::stoll(PQgetvalue(r_, row, col)); }
    int64_t changed() const {
        const char* n = PQcmdTuples(r_);
        return n != nullptr && *n != '\0' ? std::stoll(n) : 0;
    }

private:
    PGresult* r_;
};

class PostgresSessionStore final : public SessionStore {
public:
    explicit PostgresSessionStore(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
        if (PQstatus(conn_) != CONNECTION_OK) {
            const std::string msg = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
            PQfinish(conn_);
            conn_ = nullptr;
            throw Error(ErrorCode::backend_failure,
                        "--store " + shown(url) + ": cannot connect: " + trimmed(msg));
        }
        where_ =
            std::string("postgresql://") + PQhost(conn_) + ":" + PQport(conn_) + "/" + PQdb(conn_);
        std::lock_guard lock(mutex_);
        ensure_connected();
        exec("BEGIN");
        try {
            exec(kSchemaLock);
            exec(kSchema);
            exec("COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
    }
    ~PostgresSessionStore() override { PQfinish(conn_); }

    std::string describe() const override { return where_; }

    void upsert_session(const std::string& key, const std::string& id,
                        const std::string& system_prompt, int64_t now_ms) override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        query(
            "INSERT INTO sessions VALUES ($1, $2, $3, $4, $4) ON CONFLICT (key_hash, "
            "session_id) DO UPDATE SET system_prompt = $3",
            {key, id, system_prompt, std::to_string(now_ms)});
    }

    std::optional<SessionRecord> session(const std::string& key,
                                         const std::string& id) const override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const auto r =
            query(std::string(kSessionColumns) + "WHERE s.key_hash = $1 AND s.session_id = $2",
                  {key, id});
        if (r->rows() == 0) return std::nullopt;
        return session_row(*r, 0);
    }

    std::vector<SessionRecord> sessions(const std::string& key) const override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const auto r = query(
            std::string(kSessionColumns) + "WHERE s.key_hash = $1 ORDER BY s.last_used_ms DESC",
            {key});
        std::vector<SessionRecord> out;
        for (int i = 0; i < r->rows(); ++i) out.push_back(session_row(*r, i));
        return out;
    }

    std::vector<TopicRecord> topics(const std::string& key, const std::string& id) const override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const auto r = query(
            "SELECT topic, n_turns, n_prompt_tokens, n_cached_tokens, n_completion_tokens, "
            "kv_file, last_used_ms FROM topics WHERE key_hash = $1 AND session_id = $2 "
            "ORDER BY ordinal",
            {key, id});
        std::vector<TopicRecord> out;
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back({r->text(i, 0), static_cast<int32_t>(r->int64(i, 1)), r->int64(i, 2),
                           r->int64(i, 3), r->int64(i, 4), r->text(i, 5), r->int64(i, 6)});
        }
        return out;
    }

    std::vector<TurnRecord> turns(const std::string& key, const std::string& id,
                                  const std::string& topic) const override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const auto r = query(
            "SELECT role, content, created_ms FROM turns WHERE key_hash = $1 AND session_id = $2 "
            "AND topic = $3 ORDER BY ordinal",
            {key, id, topic});
        std::vector<TurnRecord> out;
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back({r->text(i, 0), r->text(i, 1), r->int64(i, 2)});
        }
        return out;
    }

    void append_exchange(const std::string& key, const std::string& id, const std::string& topic,
                         const Exchange& x) override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const std::string now = std::to_string(x.now_ms);
        exec("BEGIN");
        try {
            query("INSERT INTO sessions VALUES ($1, $2, '', $3, $3) ON CONFLICT DO NOTHING",
                  {key, id, now});
            // Serializes the exchanges of one session across instances (turn ordinals).
            query("SELECT 1 FROM sessions WHERE key_hash = $1 AND session_id = $2 FOR UPDATE",
                  {key, id});
            query("UPDATE sessions SET last_used_ms = $3 WHERE key_hash = $1 AND session_id = $2",
                  {key, id, now});
            query(
                "INSERT INTO topics (key_hash, session_id, topic, ordinal, last_used_ms) VALUES "
                "($1, $2, $3, (SELECT COUNT(*) FROM topics WHERE key_hash = $1 AND session_id = "
                "$2), $4) ON CONFLICT DO NOTHING",
                {key, id, topic, now});
            query(
                "UPDATE topics SET n_turns = n_turns + 2, n_prompt_tokens = n_prompt_tokens + "
                "$4, n_cached_tokens = n_cached_tokens + $5, n_completion_tokens = "
                "n_completion_tokens + $6, kv_file = $7, last_used_ms = $8 WHERE key_hash = $1 "
                "AND session_id = $2 AND topic = $3",
                {key, id, topic, std::to_string(x.n_prompt_tokens),
                 std::to_string(x.n_cached_tokens), std::to_string(x.n_completion_tokens),
                 x.kv_file, now});
            const char* insert_turn =
                "INSERT INTO turns VALUES ($1, $2, $3, (SELECT COUNT(*) FROM turns WHERE "
                "key_hash = $1 AND session_id = $2 AND topic = $3), $4, $5, $6)";
            query(insert_turn, {key, id, topic, "user", x.user, now});
            query(insert_turn, {key, id, topic, "assistant", x.assistant, now});
            exec("COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
    }

    std::optional<std::vector<std::string>> delete_session(const std::string& key,
                                                           const std::string& id) override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        exec("BEGIN");
        try {
            std::vector<std::string> files;
            const auto q = query(
                "SELECT kv_file FROM topics WHERE key_hash = $1 AND session_id = $2", {key, id});
            for (int i = 0; i < q->rows(); ++i) {
                if (std::string f = q->text(i, 0); !f.empty()) files.push_back(std::move(f));
            }
            const bool existed =
                query("DELETE FROM sessions WHERE key_hash = $1 AND session_id = $2", {key, id})
                    ->changed() > 0;
            query("DELETE FROM topics WHERE key_hash = $1 AND session_id = $2", {key, id});
            query("DELETE FROM turns WHERE key_hash = $1 AND session_id = $2", {key, id});
            exec("COMMIT");
            if (!existed) return std::nullopt;
            return files;
        } catch (...) {
            rollback();
            throw;
        }
    }

    std::vector<std::string> all_kv_files() const override {
        std::lock_guard lock(mutex_);
        ensure_connected();
        const auto r = query("SELECT kv_file FROM topics WHERE kv_file != ''", {});
        std::vector<std::string> out;
        for (int i = 0; i < r->rows(); ++i) out.push_back(r->text(i, 0));
        return out;
    }

private:
    static std::string trimmed(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }
    // The URL without its user info (a password may be there).
    static std::string shown(const std::string& url) {
        const size_t scheme = url.find("://");
        const size_t at = url.find('@');
        if (scheme == std::string::npos || at == std::string::npos) return url;
        return url.substr(0, scheme + 3) + "…@" + url.substr(at + 1);
    }
    static SessionRecord session_row(const Result& r, int i) {
        return {r.text(i, 0),
                r.text(i, 1),
                r.int64(i, 2),
                r.int64(i, 3),
                static_cast<int32_t>(r.int64(i, 4)),
                static_cast<int32_t>(r.int64(i, 5))};
    }

    // A broken connection (server restarted) is re-opened at the start of an operation, never
    // inside a transaction (which then fails whole).
    void ensure_connected() const {
        if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::backend_failure,
                    where_ + ": " + what + ": " + trimmed(PQerrorMessage(conn_)));
    }

    void exec(const char* sql) const {
        Result r(PQexec(conn_, sql));
        const ExecStatusType st = PQresultStatus(r.get_raw());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail("statement failed");
    }

    std::unique_ptr<Result> query(const std::string& sql,
                                  const std::vector<std::string>& params) const {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const std::string& p : params) values.push_back(p.c_str());
        auto r = std::make_unique<Result>(PQexecParams(conn_, sql.c_str(),
                                                       static_cast<int>(values.size()), nullptr,
                                                       values.data(), nullptr, nullptr, 0));
        const ExecStatusType st = PQresultStatus(r->get_raw());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail("query failed");
        return r;
    }

    void rollback() const { Result r(PQexec(conn_, "ROLLBACK")); }

    PGconn* conn_;
    std::string where_;
    mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<SessionStore> open_postgres_store(const std::string& url) {
    return std::make_unique<PostgresSessionStore>(url);
}

}  // namespace rdic

#else

namespace rdic {

std::unique_ptr<SessionStore> open_postgres_store(const std::string&) {
    throw Error(ErrorCode::invalid_argument,
                "--store postgresql://...: this rdic was built without libpq (install libpq-dev, "
                "as scripts/setup.sh does, and rebuild)");
}

}  // namespace rdic

#endif
