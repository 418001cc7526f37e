#include "rdic/serving/store.h"

#include <sqlite3.h>

#include <utility>

#include "rdic/error.h"
#include "rdic/serving/pg_store.h"

namespace rdic {

namespace {

constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, system_prompt TEXT NOT NULL,
    created_ms INTEGER NOT NULL, last_used_ms INTEGER NOT NULL,
    PRIMARY KEY (key_hash, session_id));
CREATE TABLE IF NOT EXISTS topics (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, topic TEXT NOT NULL,
    ordinal INTEGER NOT NULL, n_turns INTEGER NOT NULL DEFAULT 0,
    n_prompt_tokens INTEGER NOT NULL DEFAULT 0, n_cached_tokens INTEGER NOT NULL DEFAULT 0,
    n_completion_tokens INTEGER NOT NULL DEFAULT 0, kv_file TEXT NOT NULL DEFAULT '',
    last_used_ms INTEGER NOT NULL,
    PRIMARY KEY (key_hash, session_id, topic));
CREATE TABLE IF NOT EXISTS turns (
    key_hash TEXT NOT NULL, session_id TEXT NOT NULL, topic TEXT NOT NULL,
    ordinal INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (key_hash, session_id, topic, ordinal));
)sql";

// One prepared statement; finalized when it goes out of scope.
class Statement {
public:
    Statement(sqlite3* db, const char* sql, const SqliteSessionStore& store) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
            throw Error(ErrorCode::backend_failure,
                        store.path().string() + ": " + sqlite3_errmsg(db) + " (preparing)");
        }
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, const std::string& s) {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    // true while a row is available; throws on error.
    bool step(const SqliteSessionStore& store) {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw Error(ErrorCode::backend_failure, store.path().string() + ": " + sqlite3_errmsg(db_));
    }
    std::string text(int col) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
        return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
                            : std::string();
    }
    int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

SqliteSessionStore::SqliteSessionStore(const std::filesystem::path& db_path) : path_(db_path) {
    const int rc = sqlite3_open_v2(
        path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
        nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "cannot allocate";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(ErrorCode::file_not_found, path_.string() +
                                                   ": cannot open the session "
                                                   "database: " +
                                                   msg);
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    try {
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=FULL");
        exec(kSchema);
    } catch (const Error& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(ErrorCode::corrupt_file,
                    std::string(e.what()) + " (not an rdic session database?)");
    }
}

SqliteSessionStore::~SqliteSessionStore() {
    sqlite3_close(db_);
}

void SqliteSessionStore::exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        fail(msg);
    }
}

void SqliteSessionStore::fail(const std::string& what) const {
    throw Error(ErrorCode::backend_failure, path_.string() + ": " + what);
}

void SqliteSessionStore::upsert_session(const std::string& key, const std::string& id,
                                        const std::string& system_prompt, int64_t now_ms) {
    std::lock_guard lock(mutex_);
    Statement st(db_,
                 "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (key_hash, "
                 "session_id) DO UPDATE SET system_prompt = ?3",
                 *this);
    st.bind(1, key).bind(2, id).bind(3, system_prompt).bind(4, now_ms).step(*this);
}

namespace {
constexpr const char* kSessionColumns =
    "SELECT s.session_id, s.system_prompt, s.created_ms, s.last_used_ms, "
    "(SELECT COUNT(*) FROM topics t WHERE t.key_hash = s.key_hash AND t.session_id = "
    "s.session_id), (SELECT COALESCE(SUM(n_turns), 0) FROM topics t WHERE t.key_hash = "
    "s.key_hash AND t.session_id = s.session_id) FROM sessions s ";

SessionRecord session_row(const Statement& st) {
    return {st.text(0),
            st.text(1),
            st.int64(2),
            st.int64(3),
            static_cast<int32_t>(st.int64(4)),
            static_cast<int32_t>(st.int64(5))};
}
}  // namespace

std::optional<SessionRecord> SqliteSessionStore::session(const std::string& key,
                                                         const std::string& id) const {
    std::lock_guard lock(mutex_);
    Statement st(
        db_, (std::string(kSessionColumns) + "WHERE s.key_hash = ?1 AND s.session_id = ?2").c_str(),
        *this);
    st.bind(1, key).bind(2, id);
    if (!st.step(*this)) return std::nullopt;
    return session_row(st);
}

std::vector<SessionRecord> SqliteSessionStore::sessions(const std::string& key) const {
    std::lock_guard lock(mutex_);
    Statement st(
        db_,
        (std::string(kSessionColumns) + "WHERE s.key_hash = ?1 ORDER BY s.last_used_ms DESC")
            .c_str(),
        *this);
    st.bind(1, key);
    std::vector<SessionRecord> out;
    while (st.step(*this)) out.push_back(session_row(st));
    return out;
}

std::vector<TopicRecord> SqliteSessionStore::topics(const std::string& key,
                                                    const std::string& id) const {
    std::lock_guard lock(mutex_);
    Statement st(db_,
                 "SELECT topic, n_turns, n_prompt_tokens, n_cached_tokens, n_completion_tokens, "
                 "kv_file, last_used_ms FROM topics WHERE key_hash = ?1 AND session_id = ?2 "
                 "ORDER BY ordinal",
                 *this);
    st.bind(1, key).bind(2, id);
    std::vector<TopicRecord> out;
    while (st.step(*this)) {
        out.push_back({st.text(0), static_cast<int32_t>(st.int64(1)), st.int64(2), st.int64(3),
                       st.int64(4), st.text(5), st.int64(6)});
    }
    return out;
}

std::vector<TurnRecord> SqliteSessionStore::turns(const std::string& key, const std::string& id,
                                                  const std::string& topic) const {
    std::lock_guard lock(mutex_);
    Statement st(db_,
                 "SELECT role, content, created_ms FROM turns WHERE key_hash = ?1 AND "
                 "session_id = ?2 AND topic = ?3 ORDER BY ordinal",
                 *this);
    st.bind(1, key).bind(2, id).bind(3, topic);
    std::vector<TurnRecord> out;
    while (st.step(*this)) out.push_back({st.text(0), st.text(1), st.int64(2)});
    return out;
}

void SqliteSessionStore::append_exchange(const std::string& key, const std::string& id,
                                         const std::string& topic, const Exchange& x) {
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        Statement(db_, "INSERT OR IGNORE INTO sessions VALUES (?1, ?2, '', ?3, ?3)", *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, x.now_ms)
            .step(*this);
        Statement(db_,
                  "UPDATE sessions SET last_used_ms = ?3 WHERE key_hash = ?1 AND session_id = ?2",
                  *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, x.now_ms)
            .step(*this);
        Statement(db_,
                  "INSERT OR IGNORE INTO topics (key_hash, session_id, topic, ordinal, "
                  "last_used_ms) VALUES (?1, ?2, ?3, (SELECT COUNT(*) FROM topics WHERE key_hash "
                  "= ?1 AND session_id = ?2), ?4)",
                  *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, topic)
            .bind(4, x.now_ms)
            .step(*this);
        Statement(db_,
                  "UPDATE topics SET n_turns = n_turns + 2, n_prompt_tokens = n_prompt_tokens + "
                  "?4, n_cached_tokens = n_cached_tokens + ?5, n_completion_tokens = "
                  "n_completion_tokens + ?6, kv_file = ?7, last_used_ms = ?8 WHERE key_hash = ?1 "
                  "AND session_id = ?2 AND topic = ?3",
                  *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, topic)
            .bind(4, x.n_prompt_tokens)
            .bind(5, x.n_cached_tokens)
            .bind(6, x.n_completion_tokens)
            .bind(7, x.kv_file)
            .bind(8, x.now_ms)
            .step(*this);
        const char* insert_turn =
            "INSERT INTO turns VALUES (?1, ?2, ?3, (SELECT COUNT(*) FROM turns WHERE key_hash = "
            "?1 AND session_id = ?2 AND topic = ?3), ?4, ?5, ?6)";
        Statement(db_, insert_turn, *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, topic)
            .bind(4, std::string("user"))
            .bind(5, x.user)
            .bind(6, x.now_ms)
            .step(*this);
        Statement(db_, insert_turn, *this)
            .bind(1, key)
            .bind(2, id)
            .bind(3, topic)
            .bind(4, std::string("assistant"))
            .bind(5, x.assistant)
            .bind(6, x.now_ms)
            .step(*this);
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::optional<std::vector<std::string>> SqliteSessionStore::delete_session(const std::string& key,
                                                                           const std::string& id) {
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        std::vector<std::string> files;
        Statement q(db_, "SELECT kv_file FROM topics WHERE key_hash = ?1 AND session_id = ?2",
                    *this);
        q.bind(1, key).bind(2, id);
        while (q.step(*this)) {
            if (std::string f = q.text(0); !f.empty()) files.push_back(std::move(f));
        }
        Statement del(db_, "DELETE FROM sessions WHERE key_hash = ?1 AND session_id = ?2", *this);
        del.bind(1, key).bind(2, id).step(*this);
        const bool existed = sqlite3_changes(db_) > 0;
        Statement(db_, "DELETE FROM topics WHERE key_hash = ?1 AND session_id = ?2", *this)
            .bind(1, key)
            .bind(2, id)
            .step(*this);
        Statement(db_, "DELETE FROM turns WHERE key_hash = ?1 AND session_id = ?2", *this)
            .bind(1, key)
            .bind(2, id)
            .step(*this);
        exec("COMMIT");
        if (!existed) return std::nullopt;
        return files;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::vector<std::string> SqliteSessionStore::all_kv_files() const {
    std::lock_guard lock(mutex_);
    Statement st(db_, "SELECT kv_file FROM topics WHERE kv_file != ''", *this);
    std::vector<std::string> out;
    while (st.step(*this)) out.push_back(st.text(0));
    return out;
}

std::unique_ptr<SessionStore> open_session_store(const std::string& url,
                                                 const std::filesystem::path& state_dir) {
    if (url.empty()) {
        std::filesystem::create_directories(state_dir);
        return std::make_unique<SqliteSessionStore>(state_dir / "sessions.sqlite3");
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return open_postgres_store(url);
    }
    const size_t colon = url.find(':');
    throw Error(ErrorCode::invalid_argument,
                "--store: '" +
                    (colon == std::string::npos ? std::string("") : url.substr(0, colon)) +
                    "' is not a supported store (postgresql://... or none for SQLite)");
}

}  // namespace rdic
