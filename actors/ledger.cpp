#include "actors/ledger.hpp"

#include "actors/idempotency_gate.hpp"
#include "actors/transfer_coordinator.hpp"

#include <spdlog/spdlog.h>

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

Ledger::Ledger(caf::actor_system& system, std::shared_ptr<persistence::LedgerBackend> backend,
               LedgerOptions options)
    : system_(system),
      options_(std::move(options)),
      counter_(std::make_shared<std::atomic<size_t>>(0)) {
  if (options_.detached_writer) {
    writer_ = system_.spawn<caf::detached>(ledger_writer, backend, options_.max_batch,
                                           options_.on_commit, gauges_);
  } else {
    writer_ = system_.spawn(ledger_writer, backend, options_.max_batch, options_.on_commit,
                            gauges_);
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
}

Ledger::~Ledger() { stop(); }

void Ledger::stop() {
  for (auto* handle : {&purger_, &gate_, &registry_, &writer_}) {
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

void Ledger::account_opened(const std::string& user_id) {
  caf::anon_send(registry_, opened_atom::value, user_id);
}

}  // namespace wallet::actors
