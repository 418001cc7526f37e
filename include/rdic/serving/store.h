// SessionStore: the server's sessions, topics and turns, behind an interface: SQLite (WAL mode)
// for one instance, PostgreSQL for several (pg_store.h). The one reader and writer of the
// database; KV blobs are files it references by path.
//
//   rdic::SqliteSessionStore store(state_dir / "sessions.sqlite3");
//   store.upsert_session(key, "s1", "Be brief.", now_ms);
//   store.append_exchange(key, "s1", "travel", {.user = "...", .assistant = "...", ...});
//   for (const rdic::TurnRecord& t : store.turns(key, "s1", "travel")) ...
//
// Scoping: every row carries the API key's hash (`key` here; "" without keys): the same session
// id under another key is another session and is never returned to it.
// Durability: each write is one transaction, committed (synchronous=FULL) before it returns.
// Thread-safety: all methods may be called from any thread (one connection behind a mutex).
// Failure: rdic::Error naming the database file and SQLite's message (file_not_found when it
// cannot be opened, corrupt_file when it is not a database, backend_failure otherwise).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace rdic {

struct SessionRecord {
    std::string id;
    std::string system_prompt;
    int64_t created_ms = 0;    // Unix time
    int64_t last_used_ms = 0;  // Unix time of the last acknowledged turn (or creation)
    int32_t n_topics = 0;
    int32_t n_turns = 0;  // user and assistant turns together
};

struct TopicRecord {
    std::string topic;
    int32_t n_turns = 0;
    int64_t n_prompt_tokens = 0;      // summed over the topic's exchanges
    int64_t n_cached_tokens = 0;      // of those, taken from the KV cache
    int64_t n_completion_tokens = 0;  // tokens the assistant generated
    std::string kv_file;              // the topic's sequence file ("" when none was written)
    int64_t last_used_ms = 0;
};

struct TurnRecord {
    std::string role;  // "user" or "assistant"
    std::string content;
    int64_t created_ms = 0;
};

// One acknowledged exchange: the user's message and the assistant's answer on one topic.
struct Exchange {
    std::string user;
    std::string assistant;
    int32_t n_prompt_tokens = 0;
    int32_t n_cached_tokens = 0;
    int32_t n_completion_tokens = 0;
    std::string kv_file;  // the topic's sequence file after this exchange ("" = none)
    int64_t now_ms = 0;
};

// The interface both ChatServices use. Implementations: SqliteSessionStore (one instance, the
// default) and PostgresSessionStore (several rdic instances sharing one database; upstream mode,
// pg_store.h). Contract of every implementation: as the file comment says (scoping by key hash,
// each write one committed transaction before it returns, any thread, rdic::Error on failure).
class SessionStore {
public:
    virtual ~SessionStore() = default;

    // Creates the session, or updates its system prompt; never touches its topics.
    virtual void upsert_session(const std::string& key, const std::string& id,
                                const std::string& system_prompt, int64_t now_ms) = 0;
    virtual std::optional<SessionRecord> session(const std::string& key,
                                                 const std::string& id) const = 0;
    // The key's sessions, most recently used first.
    virtual std::vector<SessionRecord> sessions(const std::string& key) const = 0;
    // The session's topics in the order they were opened.
    virtual std::vector<TopicRecord> topics(const std::string& key,
                                            const std::string& id) const = 0;
    // The topic's turns in order (user, assistant, user, ...).
    virtual std::vector<TurnRecord> turns(const std::string& key, const std::string& id,
                                          const std::string& topic) const = 0;
    // Appends the two turns and updates the topic's counters and KV file in one transaction;
    // creates the session (empty system prompt) and the topic when they do not exist.
    virtual void append_exchange(const std::string& key, const std::string& id,
                                 const std::string& topic, const Exchange& exchange) = 0;
    // Erases the session, its topics and turns; returns the KV files they referenced (for the
    // caller to delete), or nullopt when there was no such session.
    virtual std::optional<std::vector<std::string>> delete_session(const std::string& key,
                                                                   const std::string& id) = 0;
    // Every KV file any topic references (to find orphans after a crash).
    virtual std::vector<std::string> all_kv_files() const = 0;
    // Where the data lives, for logs ("FILE" or "postgresql://HOST:PORT/DB", no password).
    virtual std::string describe() const = 0;
};

class SqliteSessionStore final : public SessionStore {
public:
    // Opens or creates the database (and its tables) in WAL mode.
    explicit SqliteSessionStore(const std::filesystem::path& db_path);
    ~SqliteSessionStore() override;
    SqliteSessionStore(const SqliteSessionStore&) = delete;
    SqliteSessionStore& operator=(const SqliteSessionStore&) = delete;

    void upsert_session(const std::string& key, const std::string& id,
                        const std::string& system_prompt, int64_t now_ms) override;
    std::optional<SessionRecord> session(const std::string& key,
                                         const std::string& id) const override;
    std::vector<SessionRecord> sessions(const std::string& key) const override;
    std::vector<TopicRecord> topics(const std::string& key, const std::string& id) const override;
    std::vector<TurnRecord> turns(const std::string& key, const std::string& id,
                                  const std::string& topic) const override;
    void append_exchange(const std::string& key, const std::string& id, const std::string& topic,
                         const Exchange& exchange) override;
    std::optional<std::vector<std::string>> delete_session(const std::string& key,
                                                           const std::string& id) override;
    std::vector<std::string> all_kv_files() const override;
    std::string describe() const override { return path_.string(); }

    const std::filesystem::path& path() const { return path_; }

private:
    void exec(const char* sql) const;
    [[noreturn]] void fail(const std::string& what) const;

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    mutable std::mutex mutex_;
};

// The store `url` names: "" = SQLite at state_dir/sessions.sqlite3; "postgresql://..." or
// "postgres://..." (a libpq connection URI) = PostgresSessionStore. Throws invalid_argument for
// another scheme or a build without PostgreSQL, else as the store's constructor.
std::unique_ptr<SessionStore> open_session_store(const std::string& url,
                                                 const std::filesystem::path& state_dir);

}  // namespace rdic
