#include "actors/ledger.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "actors/hold_expiry_sweeper.hpp"
#include "actors/idempotency_gate.hpp"
#include "actors/in_transit_receiver.hpp"
#include "actors/ledger_outcomes.hpp"
#include "actors/transfer_coordinator.hpp"
#include "domain/money.hpp"
#include "domain/partitioning.hpp"
#include "persistence/ledger_store.hpp"

namespace wallet::actors {

namespace {

Reply partition_moved_reply() {
  return error_reply(domain::ErrorCode::partition_moved,
                     "this instance does not own the account's partition (it moved or is "
                     "moving); nothing changed, retry");
}

// Purges expired idempotency outcomes in small batches: at once again while batches come back
// full, otherwise after `every`. Never on the money path: its own actor, the pool's threads.
caf::behavior outcome_purger(caf::event_based_actor* self,
                             std::shared_ptr<persistence::LedgerBackend> backend,
                             std::chrono::milliseconds every,
                             std::shared_ptr<LedgerGauges> gauges) {
  self->send(self, purge_atom::value);
  return {
      [=](purge_atom) {
        auto me = caf::actor_cast<caf::actor>(self);
        backend->purge_expired_outcomes([me, gauges](domain::Result<size_t> purged) {
          if (purged && purged.value() > 0) {
            spdlog::info("event=idempotency_purged rows={}", purged.value());
            gauges->idempotency_purged += purged.value();
          }
          const bool more = purged && purged.value() >= 1'000;
          if (purged && !more) {
            gauges->idempotency_caught_up_unix_s =
                std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
          }
          caf::anon_send(me, purge_atom::value, more);
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

// Asks the backend which server it reaches, every `every`: a failover is noticed (and the loaded
// accounts reload) even while nothing is written.
caf::behavior server_watcher(caf::event_based_actor* self,
                             std::shared_ptr<persistence::LedgerBackend> backend,
                             std::chrono::milliseconds every) {
  self->send(self, check_atom::value);
  return {
      [=](check_atom) {
        backend->check_server();
        self->delayed_send(self, every, check_atom::value);
      },
  };
}

// Across owners: a hold of a transaction is settled with its transaction, never by a client.
Reply hold_of_transaction(const persistence::HoldRecord& hold) {
  return error_reply(domain::ErrorCode::hold_not_pending,
                     "hold " + hold.hold_id + " belongs to transaction " + hold.transaction_id +
                         ", which captures or voids it");
}

}  // namespace

Ledger::Ledger(caf::actor_system& system, persistence::DbPool* pool,
               std::shared_ptr<persistence::LedgerBackend> backend, LedgerOptions options)
    : system_(system),
      options_(std::move(options)),
      pool_(pool),
      backend_(backend),
      counter_(std::make_shared<std::atomic<size_t>>(0)) {
  writer_ = system_.spawn(ledger_writer, backend, options_.max_batch, options_.on_commit, gauges_);
  AccountContext context;
  context.writer = writer_;
  context.backend = backend;
  context.max_stash = options_.max_stash_per_account;
  context.owned = options_.owned;
  registry_ = system_.spawn(account_registry, context, options_.idle_after, gauges_);
  coordinator_ = system_.spawn(transfer_coordinator, registry_, writer_);
  timekeeper_ = system_.spawn(stage_timekeeper);
  gate_ = system_.spawn(idempotency_gate, backend, options_.idempotency_cache,
                        options_.idempotency_ttl);
  // A failover: the accounts reload before they answer, and the gate forgets its outcomes.
  backend_->watch_server([registry = registry_, gate = gate_] {
    caf::anon_send(registry, new_server_atom::value);
    caf::anon_send(gate, new_server_atom::value);
  });
  if (pool_ && options_.server_check_every.count() > 0) {
    server_watcher_ = system_.spawn(server_watcher, backend, options_.server_check_every);
  }
  if (options_.purge_every.count() > 0) {
    purger_ = system_.spawn(outcome_purger, backend, options_.purge_every, gauges_);
  }
  if (options_.sweep_holds && pool) {
    sweeper_ = system_.spawn(hold_expiry_sweeper, pool, registry_, gauges_, options_.owned);
  }
  if (options_.owned) {
    partition_load_ =
        std::make_shared<std::vector<std::atomic<int64_t>>>(options_.owned->partitions());
  }
  std::shared_ptr<const persistence::OwnedPartitions> receive_for = options_.owned;
  if (!receive_for) receive_for = options_.arrivals_for;
  if (receive_for && options_.arrivals_every.count() > 0) {
    CreditFn credit = [this](persistence::InTransit leg, std::function<void(bool)> done) {
      arrive(std::move(leg), std::move(done));
    };
    receiver_ = system_.spawn(in_transit_receiver, backend_, receive_for, std::move(credit),
                              gauges_, options_.arrivals_every, !options_.owned);
  }
  start_hold_resolver();  // across owners: settles holds of transactions that wait too long
}

Ledger::~Ledger() { stop(); }

void Ledger::stop() {
  for (auto* handle : {&hold_resolver_, &receiver_, &purger_, &sweeper_, &server_watcher_, &gate_,
                       &timekeeper_, &coordinator_, &registry_, &writer_}) {
    if (*handle) caf::anon_send_exit(*handle, caf::exit_reason::user_shutdown);
  }
}

bool Ledger::admit(ReplyFn& reply, const std::string& account) {
  if (refusing_.load()) {
    reply(error_reply(domain::ErrorCode::unavailable, "the service is shutting down, retry"));
    return false;
  }
  int partition = -1;
  if (options_.owned && !account.empty()) {
    partition = domain::partition_of(account, options_.owned->partitions());
    if (!options_.owned->owns_partition(partition)) {
      reply(partition_moved_reply());
      return false;
    }
  }
  if (counter_->fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    counter_->fetch_sub(1, std::memory_order_relaxed);
    reply(error_reply(domain::ErrorCode::too_many_requests,
                      "too many operations in flight, retry later"));
    return false;
  }
  if (partition < 0) {
    reply = [counter = counter_, inner = std::move(reply)](Reply answer) {
      counter->fetch_sub(1, std::memory_order_relaxed);
      inner(std::move(answer));
    };
    return true;
  }
  // Beyond one machine: also counted per partition (give_up_partitions drains on it).
  (*partition_load_)[partition].fetch_add(1, std::memory_order_relaxed);
  reply = [counter = counter_, load = partition_load_, partition,
           inner = std::move(reply)](Reply answer) {
    counter->fetch_sub(1, std::memory_order_relaxed);
    (*load)[partition].fetch_sub(1, std::memory_order_relaxed);
    inner(std::move(answer));
  };
  return true;
}

void Ledger::run_idempotent(const IdempotencyTag& tag, Deadline deadline, ReplyFn reply,
                            std::function<void(ReplyFn)> run) {
  caf::anon_send(gate_, call_atom::value,
                 IdempotentCall{tag, std::move(reply), std::move(run), deadline});
}

std::shared_ptr<StageClaim> Ledger::start_stage(Deadline deadline, const ReplyFn& reply) {
  auto claim = std::make_shared<StageClaim>();
#ifdef WALLET_PROTOCOL_BUG_STAGE_WITHOUT_DEADLINE  // negative control (test-only build)
  return claim;
#endif
  if (deadline == kNoDeadline) return claim;
  const auto wait = deadline - system_.clock().now();
  if (wait <= Deadline::duration::zero()) {
    if (claim->expire()) reply(timeout_reply());  // passed already: the step will not go on
    return claim;
  }
  caf::delayed_anon_send(timekeeper_, wait, timeout_atom::value, StageTimer{claim, reply});
  return claim;
}

Deadline Ledger::deadline_from_now() const {
  return system_.clock().now() + options_.request_deadline;
}

void Ledger::retire(const std::string& user_id) {
  caf::anon_send(registry_, retire_atom::value, user_id);
}

void Ledger::deposit(DepositCommand command) {
  if (!admit(command.reply, command.user_id)) return;
  run_keyed(std::move(command), [registry = registry_](DepositCommand cmd) {
    caf::anon_send(registry, deposit_atom::value, std::move(cmd));
  });
}

void Ledger::transfer(TransferCommand command) {
  if (!admit(command.reply, command.from_user_id)) return;
  run_keyed(std::move(command), [this](TransferCommand cmd) { start_transfer(std::move(cmd)); });
}

void Ledger::start_transfer(TransferCommand command) {
  if (command.arrival || !owned_elsewhere(command.to_user_id)) {
    caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
    return;
  }
  // Across owners: the payee must exist (its owner cannot refuse the credit later for that), then
  // this instance commits the debit with the in-transit row.
  command.payee_partition = domain::partition_of(command.to_user_id, options_.owned->partitions());
  auto payee = command.to_user_id;
  auto stage = start_stage(command.deadline, command.reply);
  read_elsewhere_owned(payee, [this, stage, command = std::move(command)](
                                  domain::Result<persistence::AccountRecord> found) mutable {
    if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
    if (!found) return command.reply(error_reply(found.error().code, found.error().message));
    // As the payee's actor would answer: the user form names default accounts only, and a
    // closed account takes no credit.
    if (!command.account_form && found->user_id != command.to_user_id) {
      return command.reply(error_reply(domain::ErrorCode::user_not_found,
                                       "no account for user " + command.to_user_id));
    }
    if (found->status == persistence::AccountStatus::closed) {
      // Decided, as the payee's actor would decide it.
      return answer_decided(command.tag,
                            error_reply(domain::ErrorCode::account_closed,
                                        "account " + command.to_user_id + " is closed"),
                            std::move(command.reply));
    }
    caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
  });
}

void Ledger::read_elsewhere_owned(
    const std::string& user_id,
    std::function<void(domain::Result<persistence::AccountRecord>)> reply) {
  backend_->load_account(
      user_id, [user_id, reply = std::move(reply)](
                   domain::Result<std::optional<persistence::AccountRecord>> found) {
        if (!found) return reply(found.error());
        if (!found.value()) {
          return reply(
              domain::Error{domain::ErrorCode::user_not_found, "no account for user " + user_id});
        }
        reply(std::move(*found.value()));
      });
}

bool Ledger::owned_elsewhere(const std::string& user_id) const {
  return options_.owned && !options_.owned->owns(user_id);
}

bool Ledger::memory_answers(const std::string& user_id) const {
  return !options_.owned || (options_.owned->owns(user_id) && options_.owned->lease().held);
}

template <typename Answer>
std::function<void(Answer)> Ledger::kept_while_leased(std::function<void(Answer)> reply,
                                                      std::function<void()> reread) const {
  if (!options_.owned) return reply;
  return [owned = options_.owned, generation = options_.owned->lease().generation,
          reply = std::move(reply), reread = std::move(reread)](Answer answer) {
    if (owned->lease_kept(generation)) return reply(std::move(answer));
    reread();
  };
}

void Ledger::balance_from_store(const std::string& user_id,
                                std::function<void(domain::Result<int64_t>)> reply) {
  read_elsewhere_owned(user_id, [id = user_id, reply = std::move(reply)](
                                    domain::Result<persistence::AccountRecord> account) {
    if (!account) return reply(account.error());
    if (account->user_id != id) {  // not a default account: no user of that id
      return reply(domain::Error{domain::ErrorCode::user_not_found, "no account for user " + id});
    }
    reply(account->balance);
  });
}

void Ledger::balance(BalanceQuery query) {
  if (query.deadline == kNoDeadline) query.deadline = deadline_from_now();
  if (!memory_answers(query.user_id)) return balance_from_store(query.user_id, query.reply);
  query.reply = kept_while_leased<domain::Result<int64_t>>(
      query.reply,
      [this, id = query.user_id, reply = query.reply] { balance_from_store(id, reply); });
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
  if (!admit(command.reply, command.user_id)) return;
  run_keyed(std::move(command), [registry = registry_](WithdrawCommand cmd) {
    caf::anon_send(registry, withdraw_atom::value, std::move(cmd));
  });
}

void Ledger::create_hold(HoldCommand command) {
  if (!admit(command.reply, command.from_user_id)) return;
  // The payee must exist (its account actor says so, or Postgres when another instance owns
  // it); then the payer's actor decides.
  auto start = [this, registry = registry_](HoldCommand cmd) {
    AvailableQuery payee;
    payee.user_id = cmd.to_user_id;
    payee.account_form = cmd.account_form;
    payee.deadline = cmd.deadline;
    auto stage = start_stage(cmd.deadline, cmd.reply);
    payee.reply = [registry, stage,
                   cmd = std::move(cmd)](domain::Result<BalanceFigures> found) mutable {
      if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
      if (!found) return cmd.reply(error_reply(found.error().code, found.error().message));
      caf::anon_send(registry, hold_atom::value, std::move(cmd));
    };
    balance_figures(std::move(payee));
  };
  run_keyed(std::move(command), std::move(start));
}

void Ledger::capture_hold(std::string hold_id, std::optional<int64_t> amount,
                          std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply, {})) return;
  const Deadline deadline = deadline_from_now();
  // The hold's row names its payer (whose actor holds it) and payee; a capture is then a transfer
  // whose debit leg consumes the hold.
  auto start = [this, hold_id, amount, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    auto stage = start_stage(deadline, done);
    backend_->find_hold(
        hold_id, [this, hold_id, amount, tag, done, deadline, stage](domain::Result<Found> found) {
          if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
          if (!found) return done(error_reply(found.error().code, found.error().message));
          if (!found.value())
            return done(
                error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
          const auto& hold = *found.value();
          if (!hold.transaction_id.empty()) {
            return answer_decided(tag, hold_of_transaction(hold), std::move(done));
          }
          if (amount && *amount > hold.amount) {
            return done(error_reply(domain::ErrorCode::invalid_amount,
                                    "amount must be at most the held amount " +
                                        domain::format_minor_units(hold.amount)));
          }
          if (owned_elsewhere(hold.from_user_id)) return done(partition_moved_reply());
          TransferCommand command;
          command.from_user_id = hold.from_user_id;
          command.to_user_id = hold.to_user_id;
          command.amount = amount.value_or(hold.amount);
          command.tag = tag;
          command.reply = done;
          command.deadline = deadline;
          command.hold_id = hold_id;
          start_transfer(std::move(command));
        });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, deadline, std::move(reply), start);
}

void Ledger::void_hold(std::string hold_id, std::optional<IdempotencyTag> tag, ReplyFn reply) {
  if (!admit(reply, {})) return;
  const Deadline deadline = deadline_from_now();
  auto start = [this, hold_id, tag, deadline](ReplyFn done) {
    using Found = std::optional<persistence::HoldRecord>;
    auto stage = start_stage(deadline, done);
    backend_->find_hold(
        hold_id, [this, hold_id, tag, done, deadline, stage](domain::Result<Found> found) {
          if (!stage->pass()) return;  // answered `timeout` at the deadline: nothing handed on
          if (!found) return done(error_reply(found.error().code, found.error().message));
          if (!found.value())
            return done(
                error_reply(domain::ErrorCode::hold_not_found, hold_not_found(hold_id).message));
          if (!found.value()->transaction_id.empty()) {
            return answer_decided(tag, hold_of_transaction(*found.value()), std::move(done));
          }
          if (owned_elsewhere(found.value()->from_user_id)) return done(partition_moved_reply());
          VoidCommand command{found.value()->from_user_id, hold_id, tag, done, deadline};
          caf::anon_send(registry_, void_atom::value, std::move(command));
        });
  };
  if (!tag) return start(std::move(reply));
  run_idempotent(*tag, deadline, std::move(reply), start);
}

void Ledger::hold(
    std::string hold_id,
    std::function<void(domain::Result<std::optional<persistence::HoldRecord>>)> reply) {
  backend_->find_hold(hold_id, std::move(reply));
}

void Ledger::figures_from_store(const std::string& user_id, bool account_form,
                                std::function<void(domain::Result<BalanceFigures>)> reply) {
  read_elsewhere_owned(user_id, [id = user_id, account_form, reply = std::move(reply)](
                                    domain::Result<persistence::AccountRecord> account) {
    if (!account) return reply(account.error());
    if (!account_form && account->user_id != id) {
      return reply(domain::Error{domain::ErrorCode::user_not_found, "no account for user " + id});
    }
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    int64_t held = 0;
    for (const auto& hold : account->pending_holds) {
      if (hold.expires_at_ms > now_ms) held += hold.amount;
    }
    reply(BalanceFigures{account->balance,
                         std::max<int64_t>(0, account->balance + account->overdraft_limit - held),
                         account->exponent});
  });
}

void Ledger::balance_figures(AvailableQuery query) {
  if (query.deadline == kNoDeadline) query.deadline = deadline_from_now();
  if (!memory_answers(query.user_id)) {
    return figures_from_store(query.user_id, query.account_form, query.reply);
  }
  query.reply = kept_while_leased<domain::Result<BalanceFigures>>(
      query.reply, [this, id = query.user_id, form = query.account_form, reply = query.reply] {
        figures_from_store(id, form, reply);
      });
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

namespace wallet::actors {

void Ledger::in_transit(int limit, std::function<void(domain::Result<InTransitSummary>)> reply) {
  pool_->run<InTransitSummary>(
      "in_transit_summary",
      [limit](pqxx::connection& conn) { return persistence::in_transit_summary(conn, limit); },
      std::move(reply));
}

void Ledger::arrive(InTransit leg, std::function<void(bool)> done) {
  if (refusing_.load() || owned_elsewhere(leg.to_user_id)) {
    return done(false);  // whoever serves the payee's partition will find it
  }
  TransferCommand command;
  command.from_user_id = std::move(leg.from_user_id);
  command.to_user_id = std::move(leg.to_user_id);
  command.amount = leg.amount;
  command.transfer_id = std::move(leg.transfer_id);
  command.posting_of = std::move(leg.transaction_id);
  command.posting = leg.posting;
  command.arrival = true;
  command.deadline = deadline_from_now();
  command.reply = [done = std::move(done)](Reply reply) { done(reply.status == 200); };
  caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
}

bool Ledger::take_partitions(const std::vector<int>& partitions) {
  auto& owned = options_.owned;
  if (!owned || partitions.empty()) return true;
  std::promise<domain::Result<std::vector<std::pair<int, int64_t>>>> taken;
  pool_->run<std::vector<std::pair<int, int64_t>>>(
      "take_partitions",
      [partitions, instance = owned->instance_id()](pqxx::connection& conn) {
        std::vector<std::pair<int, int64_t>> epochs;
        for (int partition : partitions) {
          epochs.emplace_back(partition, persistence::take_partition(conn, partition, instance));
        }
        return epochs;
      },
      [&taken](domain::Result<std::vector<std::pair<int, int64_t>>> result) {
        taken.set_value(std::move(result));
      });
  auto result = taken.get_future().get();
  if (!result) {
    spdlog::warn("event=partition_take_failed partitions={} cause=\"{}\"", partitions.size(),
                 result.error().message);
    return false;
  }
  for (const auto& [partition, epoch] : result.value()) {
    serve_partition(partition, epoch);
    spdlog::info("event=partition_taken partition={} epoch={} instance={}", partition, epoch,
                 owned->instance_id());
  }
  if (receiver_) caf::anon_send(receiver_, wake_atom::value);
  return true;
}

void Ledger::serve_partition(int partition, int64_t epoch) {
  auto& owned = options_.owned;
  // Accounts of it still loaded here may be stale: another owner may have moved them. The notice
  // goes before the partition is served: a request admitted once it is served reaches the
  // registry after the notice (it is sent later), so no actor decides on the old balance.
  caf::anon_send(registry_, moved_atom::value, partition, owned->partitions(), true);
  owned->hold(partition, epoch);
}

void Ledger::give_up_partitions(const std::vector<int>& partitions,
                                std::chrono::milliseconds drain) {
  auto& owned = options_.owned;
  if (!owned || partitions.empty()) return;
  for (int partition : partitions) owned->leave(partition);
  const auto until = std::chrono::steady_clock::now() + drain;
  auto busy = [&] {
    int64_t load = 0;
    for (int partition : partitions) load += (*partition_load_)[partition].load();
    return load;
  };
  while (busy() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t left = busy();
  for (int partition : partitions) {
    owned->drop(partition);
    caf::anon_send(registry_, moved_atom::value, partition, owned->partitions(), false);
  }
  spdlog::info("event=partitions_given_up count={} unanswered={} instance={}", partitions.size(),
               left, owned->instance_id());
}

}  // namespace wallet::actors
