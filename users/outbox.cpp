#include "users/outbox.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "persistence/replication.hpp"
#include "persistence/session.hpp"
#include "persistence/user_store.hpp"

namespace wallet::users {

using namespace std::chrono_literals;

struct Outbox::Impl {
  explicit Impl(const std::string& url)
      : relay(url, persistence::background_session()),
        listener(url, persistence::background_session()) {
    listener.on_connect([](pqxx::connection& conn) { persistence::listen_outbox(conn); });
  }

  template <class T>
  domain::Result<T> answer(persistence::DbResult<T> result, const char* operation) {
    if (!result) {
      std::lock_guard<std::mutex> lock(mutex);
      cause = result.failure().cause;
      spdlog::warn("event=outbox_db_failed op={} cause=\"{}\"", operation, cause);
    }
    return std::move(result).result();
  }

  persistence::Session relay;     // relay thread
  persistence::Session listener;  // listener thread
  persistence::SessionLock lead;  // one relay per database publishes (relay session)
  std::chrono::steady_clock::time_point checked = std::chrono::steady_clock::now();
  mutable std::mutex mutex;  // guards cause
  std::string cause;
};

Outbox::Outbox(std::string database_url) : impl_(std::make_unique<Impl>(database_url)) {}

Outbox::~Outbox() = default;

domain::Result<OutboxPass> Outbox::next(int limit) {
  Impl& s = *impl_;
  return s.answer(s.relay.run([&s, limit](pqxx::connection& conn) {
    OutboxPass pass;
    pass.leading = s.lead.hold(s.relay, conn, persistence::try_lead_outbox);
    if (s.lead.taken_now()) spdlog::info("event=outbox_relay_leading");
    if (!pass.leading) {
      pass.pending = persistence::count_pending_outbox(conn);
      return pass;
    }
    for (auto& row : persistence::pending_outbox(conn, limit)) {
      pass.rows.push_back(
          {row.id, std::move(row.aggregate_id), std::move(row.topic), std::move(row.payload)});
    }
    // A user row can be visible here before its commit reached the synchronous standby (a
    // createUser whose backend was terminated in that wait): publish only what a failover cannot
    // take back, or transaction-service would open an account for a user who never existed.
    if (!pass.rows.empty()) persistence::confirm_durable(conn);
    return pass;
  }),
                  "outbox_read");
}

domain::Result<int64_t> Outbox::settle(const std::vector<int64_t>& sent,
                                       const std::vector<int64_t>& unsent) {
  return impl_->answer(impl_->relay.run([&](pqxx::connection& conn) {
    persistence::mark_outbox_sent(conn, sent);
    persistence::count_outbox_attempts(conn, unsent);
    return persistence::count_pending_outbox(conn);
  }),
                       "outbox_mark");
}

bool Outbox::await_commit(std::chrono::milliseconds wait) {
  Impl& s = *impl_;
  const auto started = std::chrono::steady_clock::now();
  auto notified = s.listener.run([&s, wait](pqxx::connection& conn) {
    const auto seconds = static_cast<long>(wait.count() / 1000);
    const auto micros = static_cast<long>((wait.count() % 1000) * 1000);
    const int count = conn.await_notification(seconds, micros);
    if (std::chrono::steady_clock::now() - s.checked > 5s) {
      // A dead socket does not always make the wait throw.
      s.checked = std::chrono::steady_clock::now();
      pqxx::nontransaction(conn).exec("SELECT 1");
    }
    return count;
  });
  if (!notified) spdlog::debug("event=outbox_listen_failed cause=\"{}\"", notified.failure().cause);
  const bool got = notified && *notified > 0;
  // Never spin: a broken connection can make the wait return at once without a notification.
  if (!got && std::chrono::steady_clock::now() - started < 100ms) {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(200)));
  }
  return got;
}

std::string Outbox::last_cause() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->cause;
}

}  // namespace wallet::users
