// LedgerEventOutbox: transaction-service's ledger_outbox as the ledger-events relay sees it. It
// owns the relay's database session (persistence::Session: timeouts, reconnects, classified
// errors), so the relay in messaging/ never touches a connection or a libpqxx type. The
// user-service twin is users::Outbox. For one thread: the relay's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domain/ledger_outbox_row.hpp"
#include "domain/result.hpp"

namespace wallet::actors {

struct LedgerEventPass {
  bool leading = false;  // false: another instance's relay publishes; rows is empty
  // Views into `text` (no copy per field): valid as long as this pass (or a copy of `text`) lives.
  std::vector<domain::LedgerOutboxRow> rows;
  std::shared_ptr<const void> text;
};

class LedgerEventOutbox {
 public:
  explicit LedgerEventOutbox(std::string database_url);
  ~LedgerEventOutbox();

  // Takes (or keeps) the publishing lead, a session-level advisory lock that only one relay per
  // schema holds (two would interleave one account's events), then reads up to `limit` pending
  // rows in outbox order. Each new connection first attaches the holds triggers when the holds
  // table lacks them (functions/ledger_events.sql) and turns synchronous_commit off for its own
  // deletes: one lost in a crash only means those events are published again (at least once), and
  // without it the relay's commits would compete with the ledger writer's for the WAL flush.
  domain::Result<LedgerEventPass> next(int limit);
  // Deletes the rows Kafka acknowledged.
  domain::Result<bool> remove(const std::vector<int64_t>& ids);
  // Rows left, counted up to `cap` (a backlog is reported as "at least cap", never scanned whole).
  domain::Result<int64_t> count(int64_t cap);
  // The last database failure's cause, for the relay's status (operators, never clients).
  const std::string& last_cause() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wallet::actors
