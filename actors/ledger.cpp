#include "actors/ledger.hpp"

#include <spdlog/spdlog.h>

#include "actors/hold_expiry_sweeper.hpp"
#include "actors/idempotency_gate.hpp"
#include "actors/transfer_coordinator.hpp"
#include "domain/money.hpp"
#include "persistence/ledger_store.hpp"

namespace wallet::actors {

namespace {

// Purges expired idempotency outcomes in small batches: at once again while batches come back
// full, otherwise after `every`. Never on the money path: its own actor, the pool's threads.
caf::behavior outcome_purger(caf::event_based_actor* self,
                             std::shared_ptr<persistence::LedgerBackend> backend,
                             std::chrono::milliseconds every) {
  self->send(self, purge_atom::value);
  return {
      [=](purge_atom) {
        auto me = caf::actor_cast<caf::actor>(self);
        backend->purge_expired_outcomes([me, every](domain::Result<size_t> purged) {
          if (purged && purged.value() > 0) {
            spdlog::info("event=idempotency_purged rows={}", purged.value());
          }
          caf::anon_send(me, purge_atom::value, purged && purged.value() >= 1'000);
        });
      },
      [=](purge_atom, bool more) {
        if (more) {
          self->send(self, purge_atom::value);
        } else {
          self->delayed_send(self, every, purge_atom::value);
        }
      },
  };
}

}  // namespace

Ledger::Ledger(caf::actor_system& system, persistence::DbPool* pool,
               std::shared_ptr<persistence::LedgerBackend> backend, LedgerOptions options)
    : system_(system),
      options_(std::move(options)),
      pool_(pool),
      backend_(backend),
      counter_(std::make_shared<std::atomic<size_t>>(0)) {
  if (options_.detached_writer) {
    writer_ = system_.spawn<caf::detached>(ledger_writer, backend, options_.max_batch,
                                           options_.on_commit, gauges_);
  } else {
    writer_ =
        system_.spawn(ledger_writer, backend, options_.max_batch, options_.on_commit, gauges_);
  }
  AccountContext context;
  context.writer = writer_;
  context.backend = backend;
  context.max_stash = options_.max_stash_per_account;
  registry_ = system_.spawn(account_registry, context, options_.idle_after, gauges_);
  gate_ = system_.spawn(idempotency_gate, backend, options_.idempotency_cache,
                        options_.idempotency_ttl);
  if (options_.purge_every.count() > 0) {
    purger_ = system_.spawn(outcome_purger, backend, options_.purge_every);
  }
  if (options_.sweep_holds && pool) {
    sweeper_ = system_.spawn(hold_expiry_sweeper, pool, registry_, gauges_);
  }
}

Ledger::~Ledger() { stop(); }

void Ledger::stop() {
  for (auto* handle : {&purger_, &sweeper_, &gate_, &registry_, &writer_}) {
    if (*handle) caf::anon_send_exit(*handle, caf::exit_reason::user_shutdown);
  }
}

bool Ledger::admit(ReplyFn& reply) {
  if (refusing_.load()) {
    reply(error_reply(domain::ErrorCode::unavailable, "the service is shutting down, retry"));
    return false;
  }
  if (counter_->fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    counter_->fetch_sub(1, std::memory_order_relaxed);
    reply(error_reply(domain::ErrorCode::too_many_requests,
                      "too many operations in flight, retry later"));
    return false;
  }
  reply = [counter = counter_, inner = std::move(reply)](Reply answer) {
    counter->fetch_sub(1, std::memory_order_relaxed);
    inner(std::move(answer));
  };
  return true;
}

void Ledger::run_idempotent(const IdempotencyTag& tag, ReplyFn reply,
                            std::function<void(ReplyFn)> run) {
  caf::anon_send(gate_, call_atom::value, IdempotentCall{tag, std::move(reply), std::move(run)});
}

Deadline Ledger::deadline_from_now() const {
  return system_.clock().now() + options_.request_deadline;
}

void Ledger::retire(const std::string& user_id) {
  caf::anon_send(registry_, retire_atom::value, user_id);
}

void Ledger::deposit(DepositCommand command) {
  if (!admit(command.reply)) return;
  if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
  if (!command.tag) {
    caf::anon_send(registry_, deposit_atom::value, std::move(command));
    return;
  }
  auto tag = *command.tag;
  ReplyFn reply = std::move(command.reply);
  run_idempotent(tag, std::move(reply),
                 [registry = registry_, command = std::move(command)](ReplyFn done) mutable {
                   command.reply = std::move(done);
                   caf::anon_send(registry, deposit_atom::value, std::move(command));
                 });
}

void Ledger::transfer(TransferCommand command) {
  if (!admit(command.reply)) return;
  if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
  auto start = [this](TransferCommand cmd) {
    system_.spawn(transfer_coordinator, std::move(cmd), registry_, writer_);
  };
  if (!command.tag) {
    start(std::move(command));
    return;
  }
  auto tag = *command.tag;
  ReplyFn reply = std::move(command.reply);
  run_idempotent(tag, std::move(reply),
                 [start, command = std::move(command)](ReplyFn done) mutable {
                   command.reply = std::move(done);
                   start(std::move(command));
                 });
}

void Ledger::balance(BalanceQuery query) {
  caf::anon_send(registry_, balance_atom::value, std::move(query));
}

void Ledger::inspect(InspectQuery query) {
  caf::anon_send(registry_, inspect_atom::value, std::move(query));
}

void Ledger::inspect_writer(std::function<void(WriterStats, size_t)> reply) {
  caf::anon_send(writer_, inspect_atom::value, WriterInspect{std::move(reply)});
}

void Ledger::open_account(std::string user_id, std::string created_at,
                          std::function<void(AccountOpening)> done) {
  pool_->run_classified<bool>(
      "open_account",
      [user_id, created_at = std::move(created_at)](pqxx::connection& conn) {
        return persistence::open_account(conn, user_id, created_at);
      },
      [registry = registry_, user_id,
       done = std::move(done)](persistence::DbResult<bool> inserted) {
        if (inserted) {
          caf::anon_send(registry, opened_atom::value, user_id);
          return done(*inserted ? AccountOpening::opened : AccountOpening::already_open);
        }
        done(inserted.failure().kind == persistence::FailureKind::invalid_data
                 ? AccountOpening::invalid
                 : AccountOpening::unavailable);
      });
}

void Ledger::account_opened(const std::string& user_id) {
  caf::anon_send(registry_, opened_atom::value, user_id);
}

}  // namespace wallet::actors

// ---- Release 2: withdrawals, holds, paged history ---------------------------------------------

namespace wallet::actors {
namespace {

domain::Error hold_not_found(const std::string& hold_id) {
  return {domain::ErrorCode::hold_not_found, "no hold " + hold_id};
}

}  // namespace

void Ledger::withdraw(WithdrawCommand command) {
  if (!admit(command.reply)) return;
  if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
  if (!command.tag) {
    caf::anon_send(registry_, withdraw_atom::value, std::move(command));
    return;
  }
  auto tag = *command.tag;
  ReplyFn reply = std::move(command.reply);
  run_idempotent(tag, std::move(reply),
                 [registry = registry_, command = std::move(command)](ReplyFn done) mutable {
                   command.reply = std::move(done);
                   caf::anon_send(registry, withdraw_atom::value, std::move(command));
                 });
}

void Ledger::create_hold(HoldCommand command) {
  if (!admit(command.reply)) return;
  if (command.deadline == kNoDeadline) command.deadline = deadline_from_now();
  // The payee must exist (its account actor says so); then the payer's actor decides.
  auto start = [registry = registry_](HoldCommand cmd) {
    AvailableQuery payee;
    payee.user_id = cmd.to_user_id;
    payee.reply = [registry, cmd = std::move(cmd)](domain::Result<BalanceFigures> found) mutable {
      if (!found) return cmd.reply(error_reply(found.error().code, found.error().message));
      caf::anon_send(registry, hold_atom::value, std::move(cmd));
    };
    caf::anon_send(registry, available_atom::value, std::move(payee));
  };
  if (!command.tag) {
    start(std::move(command));
    return;
  }
  auto tag = *command.tag;
  ReplyFn reply = std::move(command.reply);
  run_idempotent(tag, std::move(reply),
                 [start, command = std::move(command)](ReplyFn done) mutable {
                   command.reply = std::move(done);
                   start(std::move(command));
                 });
}

void Ledger::capture_hold(std::string hold_id, std::optional<int64_t> amount,
                          std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply)) return;
  const Deadline deadline = deadline_from_now();
  // The hold's row names its payer (whose actor holds it) and payee; a capture is then a transfer
  // whose debit leg consumes the hold.
  auto start = [this, hold_id, amount, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    backend_->find_hold(
        hold_id, [this, hold_id, amount, tag, done, deadline](domain::Result<Found> found) {
          if (!found) return done(error_reply(found.error().code, found.error().message));
          if (!found.value())
            return done(
                error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
          const auto& hold = *found.value();
          if (amount && *amount > hold.amount) {
            return done(error_reply(domain::ErrorCode::invalid_amount,
                                    "amount must be at most the held amount " +
                                        domain::format_minor_units(hold.amount)));
          }
          TransferCommand command;
          command.from_user_id = hold.from_user_id;
          command.to_user_id = hold.to_user_id;
          command.amount = amount.value_or(hold.amount);
          command.tag = tag;
          command.reply = done;
          command.deadline = deadline;
          command.hold_id = hold_id;
          system_.spawn(transfer_coordinator, std::move(command), registry_, writer_);
        });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, std::move(reply), start);
}

void Ledger::void_hold(std::string hold_id, std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply)) return;
  const Deadline deadline = deadline_from_now();
  auto start = [this, hold_id, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    backend_->find_hold(hold_id, [this, hold_id, tag, done, deadline](domain::Result<Found> found) {
      if (!found) return done(error_reply(found.error().code, found.error().message));
      if (!found.value())
        return done(
            error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
      VoidCommand command{found.value()->from_user_id, hold_id, tag, done, deadline};
      caf::anon_send(registry_, void_atom::value, std::move(command));
    });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, std::move(reply), start);
}

void Ledger::hold(
    std::string hold_id,
    std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> reply) {
  backend_->find_hold(hold_id, std::move(reply));
}

void Ledger::balance_figures(AvailableQuery query) {
  caf::anon_send(registry_, available_atom::value, std::move(query));
}

void Ledger::history(
    std::string user_id, int limit, int64_t before,
    std::function<void(domain::Result<std::optional<persistence::HistoryPage>>)> reply) {
  pool_->run<std::optional<persistence::HistoryPage>>(
      "load_history",
      [user_id, limit, before](pqxx::connection& conn) {
        return persistence::load_history_page(conn, user_id, limit, before);
      },
      std::move(reply));
}

}  // namespace wallet::actors

// ---- Beyond one machine ------------------------------------------------------------------------

namespace wallet::actors {

void Ledger::partitions(
    std::function<void(domain::Result<std::vector<persistence::PartitionOwner>>)> reply) {
  pool_->run<std::vector<persistence::PartitionOwner>>(
      "list_partitions", [](pqxx::connection& conn) { return persistence::list_partitions(conn); },
      std::move(reply));
}

}  // namespace wallet::actors
