// PostgresSessionStore: the SessionStore (store.h) in PostgreSQL, for several `rdic serve
// --upstream` instances behind one load balancer: a session started on one instance continues
// on another, because every instance reads a topic's turns from here before each request.
//
//   auto store = rdic::open_postgres_store("postgresql://rdic@127.0.0.1:5432/rdic");
//
// Why PostgreSQL (docs/scale-out.md): the data is the same three relational tables as SQLite's,
// and an exchange is one transaction (two turns + counters) that must commit durably before the
// client is answered; Redis would need the schema re-cast as keys and its durability configured
// (appendfsync) to say the same. Both instances may write one session: each exchange locks its
// session row (SELECT ... FOR UPDATE), so turn numbering never collides.
// Thread-safety: one libpq connection behind a mutex (reconnected when it broke).
// Failure: rdic::Error(backend_failure) naming the server (never the password) and PostgreSQL's
// message; invalid_argument when rdic was built without libpq.
#pragma once

#include <memory>
#include <string>

#include "rdic/serving/store.h"

namespace rdic {

// Connects (libpq URI), creates the tables when missing. Throws as above.
std::unique_ptr<SessionStore> open_postgres_store(const std::string& url);

}  // namespace rdic
