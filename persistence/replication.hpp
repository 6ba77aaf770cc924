// Replication: what a commit seen on the primary is worth after a failover. Postgres makes a
// transaction visible on the primary before its commit has reached the synchronous standby (the
// committing backend then waits; a backend terminated while it waits stays committed locally
// only), so a row read there may vanish when the standby is promoted. Everything that turns such
// a read into a promise (an in-doubt commit found committed, an outbox row published) first
// confirms it with confirm_durable. And a service that reaches a new primary (a failover: another
// timeline, or another cluster) must not trust what it keeps in memory: ServerIdentity tells.
#pragma once

#include <functional>
#include <mutex>
#include <pqxx/connection>
#include <string>

namespace wallet::persistence {

// Returns once every commit this server has made so far is as durable as a commit of ours: on a
// primary with a synchronous standby, flushed there too. It commits a write of its own (a row of
// `replication_probe`, in both services' schemas), whose commit waits for synchronous replication
// with synchronous_commit on whatever the session set; WAL is one sequence, so the standby
// confirming it confirms everything before it. Without a synchronous standby it returns at once
// (after a local flush). Blocks while
// the standby does not confirm; throws what libpqxx throws (the caller's Session classifies it):
// then nothing is confirmed.
void confirm_durable(pqxx::connection& conn);

// The server's identity: its system identifier and the timeline it writes on ("<sysid>/<tli>").
// A promoted standby keeps the system identifier and starts a new timeline.
std::string server_identity(pqxx::connection& conn);

// Remembers the identity of the server the service writes to and calls `on_change` (once per
// change, on the observing thread) when a connection finds another one. Thread-safe.
class ServerIdentity {
 public:
  void on_change(std::function<void(const std::string& before, const std::string& now)> notify);
  // An empty identity (the server did not tell) is ignored.
  // Reads the identity of `conn`'s server and compares; true when it changed (the first
  // observation is not a change). Throws what libpqxx throws.
  bool observe(pqxx::connection& conn);
  bool observe(const std::string& identity);
  std::string current() const;

 private:
  mutable std::mutex mutex_;
  std::string identity_;
  std::function<void(const std::string&, const std::string&)> notify_;
};

}  // namespace wallet::persistence
