// The Ledger's lifecycle and admission: the actors it spawns and stops, the in-flight bound and
// the partition check every operation passes first, the stages' deadlines, and the notices it
// passes to the account actors (an account opened, one to retire, inspection).
#include "actors/ledger.hpp"

#include <spdlog/spdlog.h>

#include "actors/hold_expiry_sweeper.hpp"
#include "actors/idempotency_gate.hpp"
#include "actors/in_transit_receiver.hpp"
#include "actors/ledger_internal.hpp"
#include "actors/ledger_outcomes.hpp"
#include "actors/transfer_coordinator.hpp"
#include "domain/partitioning.hpp"

namespace wallet::actors {

namespace ledger_internal {

Reply partition_moved_reply() {
  return error_reply(domain::ErrorCode::partition_moved,
                     "this instance does not own the account's partition (it moved or is "
                     "moving); nothing changed, retry");
}

}  // namespace ledger_internal

using ledger_internal::partition_moved_reply;

namespace {

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

}  // namespace

Ledger::Ledger(caf::actor_system& system, std::shared_ptr<persistence::LedgerRecords> records,
               std::shared_ptr<persistence::LedgerBackend> backend, LedgerOptions options)
    : system_(system),
      options_(std::move(options)),
      records_(std::move(records)),
      backend_(backend),
      in_flight_(std::make_shared<runtime::InFlightCounter>()) {
  writer_ = system_.spawn(ledger_writer, backend, options_.max_batch, options_.on_commit, gauges_);
  AccountContext context;
  context.writer = writer_;
  context.backend = backend;
  context.max_stash = options_.max_stash_per_account;
  context.owned = options_.owned;
  context.epoch_ms = options_.epoch_ms;
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
  if (records_ && options_.server_check_every.count() > 0) {
    server_watcher_ = system_.spawn(server_watcher, backend, options_.server_check_every);
  }
  if (options_.purge_every.count() > 0) {
    purger_ = system_.spawn(outcome_purger, backend, options_.purge_every, gauges_);
  }
  if (options_.sweep_holds && records_) {
    sweeper_ = system_.spawn(hold_expiry_sweeper, records_, registry_, gauges_, options_.owned);
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
  if (database_down_.load(std::memory_order_relaxed)) {
    reply(error_reply(domain::ErrorCode::unavailable,
                      "the ledger's database is unreachable; nothing changed, retry"));
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
  if (!in_flight_->try_acquire(options_.max_in_flight)) {
    reply(error_reply(domain::ErrorCode::too_many_requests,
                      "too many operations in flight, retry later"));
    return false;
  }
  if (partition < 0) {
    reply = [in_flight = in_flight_, inner = std::move(reply)](Reply answer) {
      in_flight->release();
      inner(std::move(answer));
    };
    return true;
  }
  // Beyond one machine: also counted per partition (give_up_partitions drains on it).
  (*partition_load_)[partition].fetch_add(1, std::memory_order_relaxed);
  reply = [in_flight = in_flight_, load = partition_load_, partition,
           inner = std::move(reply)](Reply answer) {
    in_flight->release();
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

void Ledger::inspect(InspectQuery query) {
  caf::anon_send(registry_, inspect_atom::value, std::move(query));
}

void Ledger::inspect_writer(std::function<void(WriterStats, size_t)> reply) {
  caf::anon_send(writer_, inspect_atom::value, WriterInspect{std::move(reply)});
}

void Ledger::open_account(std::string user_id, std::string created_at,
                          std::function<void(AccountOpening)> done) {
  records_->open_account(
      user_id, std::move(created_at),
      [registry = registry_, user_id, done = std::move(done)](AccountOpening opening) {
        if (opening == AccountOpening::opened || opening == AccountOpening::already_open) {
          caf::anon_send(registry, opened_atom::value, user_id);
        }
        done(opening);
      });
}

void Ledger::account_opened(const std::string& user_id) {
  caf::anon_send(registry_, opened_atom::value, user_id);
}

}  // namespace wallet::actors
