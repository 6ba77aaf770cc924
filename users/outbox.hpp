// Outbox: user-service's transactional outbox as the relay sees it. It owns two database sessions
// (one for the relay's reads and writes, one that listens for the commit notifications), so the
// relay in messaging/ never touches a connection or a libpqxx type. Each method is for one thread:
// next/settle for the relay's thread, await_commit for its listener thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domain/result.hpp"

namespace wallet::users {

struct OutboxMessage {
  int64_t id = 0;
  std::string key;  // the aggregate (user) id: the Kafka record key
  std::string topic;
  std::string payload;
};

struct OutboxPass {
  bool leading = false;  // false: another instance's relay publishes; rows is empty
  std::vector<OutboxMessage> rows;
  int64_t pending = 0;  // when not leading: rows not yet acknowledged
};

class Outbox {
 public:
  explicit Outbox(std::string database_url);
  ~Outbox();

  // Takes (or keeps) the publishing lead, a session-level advisory lock that only one relay per
  // schema holds, then reads up to `limit` pending rows in id order.
  domain::Result<OutboxPass> next(int limit);
  // Marks the delivered rows sent, counts an attempt on the others; returns the rows still pending.
  domain::Result<int64_t> settle(const std::vector<int64_t>& sent,
                                 const std::vector<int64_t>& unsent);
  // Waits up to `wait` for a commit notification of new rows; true when one came. Reconnects and
  // re-subscribes by itself; a failure is reported as no notification (after the wait).
  bool await_commit(std::chrono::milliseconds wait);
  // The last database failure's cause, for the relay's status (operators, never clients).
  std::string last_cause() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::users
