// user-service persistence: users and the transactional outbox. Free functions over a connection
// (run them through a persistence::Session: a DbPool thread's or the outbox's own); libpqxx
// exceptions propagate to that Session, which classifies them.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace wallet::persistence {

struct UserRecord {
  std::string user_id;
  std::string email;
  std::string created_at;  // RFC 3339, UTC, microseconds
};

struct OutboxRow {
  int64_t id = 0;
  std::string aggregate_id;
  std::string topic;
  std::string payload;  // JSON text of the event
};

// A user to insert with its `user-created` outbox row. The caller chooses the id and the creation
// time and encodes the event (domain/user_created_event.hpp): nothing of the event is built here.
struct NewUser {
  std::string user_id;
  std::string email;       // normalized
  std::string created_at;  // RFC 3339 UTC, microseconds: the same text as in the event
  std::string event_topic;
  std::string event_payload;  // JSON
};

// Inserts the user and its outbox row in one transaction (one statement). nullopt when the email
// is taken: of two concurrent creates of one email, the second waits for the first to commit and
// then finds the conflict.
std::optional<UserRecord> create_user(pqxx::connection& conn, const NewUser& user);

std::optional<UserRecord> find_user_by_email(pqxx::connection& conn, const std::string& email);
std::optional<UserRecord> find_user_by_id(pqxx::connection& conn, const std::string& user_id);

// Pending rows (not yet acknowledged by Kafka) in id order.
std::vector<OutboxRow> pending_outbox(pqxx::connection& conn, int limit);
void mark_outbox_sent(pqxx::connection& conn, const std::vector<int64_t>& ids);
void count_outbox_attempts(pqxx::connection& conn, const std::vector<int64_t>& ids);
int64_t count_pending_outbox(pqxx::connection& conn);

// Subscribes the connection to the notification that the outbox trigger sends at each commit of
// new rows; wait for it with pqxx::connection::await_notification.
void listen_outbox(pqxx::connection& conn);

// Session-level advisory lock naming the one relay allowed to publish this schema's outbox, so
// that several user-service instances never publish the same rows concurrently. Held until the
// connection closes; true when this connection holds it.
bool try_lead_outbox(pqxx::connection& conn);

}  // namespace wallet::persistence
