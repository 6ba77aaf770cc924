#include "actors/ledger_event_outbox.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "persistence/ledger_event_outbox.hpp"
#include "persistence/replication.hpp"
#include "persistence/session.hpp"

namespace wallet::actors {

namespace {

// A background session that reads and deletes the outbox as the queue it is (SessionOptions).
persistence::SessionOptions relay_session() {
  auto options = persistence::background_session();
  options.queue_plans = true;
  return options;
}

}  // namespace

struct LedgerEventOutbox::Impl {
  explicit Impl(const std::string& url) : session(url, relay_session()) {
    session.on_connect([](pqxx::connection& conn) {
      pqxx::nontransaction(conn).exec("SET synchronous_commit = off");
      if (!persistence::attach_hold_events(conn)) {
        spdlog::debug("event=ledger_events_no_holds_table");
      }
    });
  }

  template <class T>
  domain::Result<T> answer(persistence::DbResult<T> result, const char* operation) {
    if (!result) {
      cause = result.failure().cause;
      spdlog::warn("event=ledger_events_db_failed op={} cause=\"{}\"", operation, cause);
    }
    return std::move(result).result();
  }

  persistence::Session session;
  persistence::SessionLock lead;  // one relay per database publishes
  std::string cause;
};

LedgerEventOutbox::LedgerEventOutbox(std::string database_url)
    : impl_(std::make_unique<Impl>(database_url)) {}

LedgerEventOutbox::~LedgerEventOutbox() = default;

domain::Result<LedgerEventPass> LedgerEventOutbox::next(int limit) {
  Impl& s = *impl_;
  return s.answer(s.session.run([&s, limit](pqxx::connection& conn) {
    LedgerEventPass pass;
    pass.leading = s.lead.hold(s.session, conn, persistence::try_lead_ledger_events);
    if (s.lead.taken_now()) spdlog::info("event=ledger_events_relay_leading");
    if (!pass.leading) return pass;
    auto batch = std::make_shared<persistence::LedgerOutboxBatch>(
        persistence::pending_ledger_events(conn, limit));
    // A row can be visible here before its commit reached the synchronous standby (a writer's
    // backend terminated in that wait): publish only what a failover cannot take back.
    if (!batch->rows.empty()) persistence::confirm_durable(conn);
    pass.rows = std::move(batch->rows);  // the views point into batch->result, which stays
    pass.text = std::move(batch);
    return pass;
  }),
                  "ledger_events_read");
}

domain::Result<bool> LedgerEventOutbox::remove(const std::vector<int64_t>& ids) {
  return impl_->answer(impl_->session.run([&ids](pqxx::connection& conn) {
    persistence::delete_ledger_events(conn, ids);
    return true;
  }),
                       "ledger_events_delete");
}

domain::Result<int64_t> LedgerEventOutbox::count(int64_t cap) {
  return impl_->answer(impl_->session.run([cap](pqxx::connection& conn) {
    return persistence::count_ledger_events(conn, cap);
  }),
                       "ledger_events_count");
}

const std::string& LedgerEventOutbox::last_cause() const { return impl_->cause; }

}  // namespace wallet::actors
