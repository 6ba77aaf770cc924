#include "actors/ledger.hpp"

#include "actors/idempotency_gate.hpp"
#include "actors/transfer_coordinator.hpp"
#include "persistence/ledger_store.hpp"

namespace wallet::actors {

Ledger::Ledger(caf::actor_system& system, persistence::DbPool& pool, LedgerOptions options)
    : system_(system),
      pool_(pool),
      options_(std::move(options)),
      counter_(std::make_shared<std::atomic<size_t>>(0)) {
  writer_ = system_.spawn<caf::detached>(ledger_writer, options_.database_url, options_.max_batch,
                                         options_.on_commit, gauges_);
  AccountContext context;
  context.writer = writer_;
  context.pool = &pool;
  context.max_stash = options_.max_stash_per_account;
  registry_ = system_.spawn(account_registry, context, options_.idle_after, gauges_);
  gate_ = system_.spawn(idempotency_gate, &pool, options_.idempotency_cache);
}

Ledger::~Ledger() { stop(); }

void Ledger::stop() {
  for (auto* handle : {&gate_, &registry_, &writer_}) {
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

void Ledger::deposit(DepositCommand command) {
  if (!admit(command.reply)) return;
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
  pool_.run_classified<bool>(
      "open_account",
      [user_id, created_at = std::move(created_at)](pqxx::connection& conn) {
        return persistence::open_account(conn, user_id, created_at);
      },
      [registry = registry_, user_id, done = std::move(done)](persistence::DbResult<bool> inserted) {
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
