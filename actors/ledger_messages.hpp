// The messages of transaction-service's ledger actors: atoms, commands from the edges (HTTP, NATS),
// and the internal protocol between account actors, transfer coordinators and the LedgerWriter.
// All of them stay inside one process, so they are allowed as unsafe (non-serializable) types.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/ledger_atoms.hpp"
#include "domain/outcomes.hpp"
#include "domain/result.hpp"
#include "persistence/ledger_backend.hpp"

namespace wallet::actors {

// Figures the registry and the writer publish about themselves (each writes only its own fields,
// after handling messages), so that /metrics can read them without messaging anyone.
struct LedgerGauges {
  std::atomic<uint64_t> live_actors{0};
  std::atomic<uint64_t> actors_spawned{0};
  std::atomic<uint64_t> actors_retired{0};
  std::atomic<uint64_t> registry_mailbox{0};
  std::atomic<uint64_t> writer_mailbox{0};
  // Holds. The writer counts closings once committed; the expiry sweeper publishes how
  // many holds are pending in the database.
  std::atomic<uint64_t> holds_created{0};
  std::atomic<uint64_t> holds_captured{0};
  std::atomic<uint64_t> holds_voided{0};
  std::atomic<uint64_t> holds_expired{0};
  std::atomic<int64_t> holds_pending{0};
  // Beyond one machine: batches the ownership fence refused (the writer counts them).
  std::atomic<uint64_t> commits_fenced{0};
  std::atomic<uint64_t> keys_taken{0};  // operations whose key already held a stored outcome
  // Transfers between owners whose credit is not committed yet, across the whole ledger (every
  // instance reads them from Postgres), and the credits this instance applied.
  std::atomic<int64_t> in_transit_count{0};
  std::atomic<int64_t> in_transit_amount{0};
  std::atomic<int64_t> in_transit_oldest_ms{0};  // age of the oldest, ledger-wide
  // The same per currency, in currency units (written by the receiver under the mutex).
  mutable std::mutex in_transit_mutex;
  std::map<std::string, double> in_transit_by_currency;
  std::atomic<uint64_t> credits_arrived{0};
  std::atomic<int64_t> credits_applying{0};  // handed to the ledger, not yet answered
  // The idempotency purger: rows it deleted, and when (Unix seconds) it last caught up, i.e. a
  // pass found less than a full batch. Stale: the purge falls behind (or fails).
  std::atomic<uint64_t> idempotency_purged{0};
  std::atomic<int64_t> idempotency_caught_up_unix_s{0};
};

// The answer to a client: what the operation ended in, typed (domain/outcomes.hpp; only http/
// and the writer's stored outcome encode it). `durable` marks an answer whose idempotency outcome
// was committed with it (so it may be replayed); `replayed` marks a replay.
struct Reply {
  domain::Outcome outcome = domain::Encoded{};
  bool durable = false;
  bool replayed = false;
  // Not committed because its idempotency key already holds a stored outcome (another request
  // under it committed first: in an earlier run, or on another instance). Nothing changed; the
  // IdempotencyGate answers with that stored outcome instead. Anyone else reads `outcome`: 503.
  bool key_taken = false;
  // With key_taken: the commit was in doubt and may have happened (a unit of keyed outcomes only,
  // its backend gone): the gate reads the key back until it knows, and never answers a failure or
  // a timeout meanwhile.
  bool read_back = false;
  int status() const { return domain::status_of(outcome); }
  // The body as http/ sends it and the writer stores it (for checks and logs; http/ encodes once).
  std::string body() const { return domain::encode(outcome).body; }
};
using ReplyFn = std::function<void(Reply)>;  // called exactly once
// The status of the answer to a reversal that waited behind racing ones: not for a client (the
// HTTP layer reads the transaction again and decides anew); nothing changed.
constexpr int kRecheck = 0;

Reply error_reply(domain::ErrorCode code, std::string message);

// Identifies an idempotent request: the endpoint it was sent to, the client's key, and a hash of
// the request's meaning (so a different body under the same key is told apart).
struct IdempotencyTag {
  std::string endpoint;
  std::string key;
  std::string request_hash;
};

// The moment after which an operation that has not reached the LedgerWriter is dropped and
// answered `503 timeout` (nothing changed, safe to retry). Once handed to the writer, an operation
// always gets its real outcome, however long the commit takes. On the actor clock (simulated time
// in the protocol simulation); Ledger fills it in from its request deadline when left unset.
using Deadline = caf::actor_clock::time_point;
constexpr Deadline kNoDeadline = Deadline::max();

struct DepositCommand {
  std::string user_id;  // the account's id (for the user-id form, the user's default account)
  int64_t amount = 0;   // minor units of the account's currency
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
  bool account_form = false;  // named by account_id (the answer says so)
};

struct TransferCommand {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
  std::string hold_id = {};  // set when this transfer captures that hold
  // Beyond one machine (SPEC.md section 7). payee_partition >= 0: the payee's account belongs to
  // another instance, so this one commits only the debit, with the transfer's in-transit row, and
  // the payee's owner commits the credit later. arrival: this is that credit (transfer_id given,
  // only the payee's leg, its commit deletes the in-transit row).
  int payee_partition = -1;
  bool arrival = false;
  std::string transfer_id = {};
  bool account_form = false;  // from_account_id/to_account_id
  // The account form: the accounts' currency and users, for the answer.
  std::string currency = {};
  std::string from_owner = {};
  std::string to_owner = {};
  // An arrival of a posting of a transaction of POST /transactions (across owners): its credit
  // row names the transaction and the posting (posting_credit) instead of a transfer.
  std::string posting_of = {};
  int posting = -1;
};

// A transaction of POST /transactions (SPEC.md section 8): 1..32 postings applied all or nothing.
// `from`/`to` name accounts, or kWorld (the outside: a posting from it is a deposit, to it a
// withdrawal). Amounts are minor units of the posting's currency.
inline constexpr const char* kWorld = "@world";
struct Posting {
  std::string from;
  std::string to;
  int64_t amount = 0;
  std::string currency;
};
struct TransactionCommand {
  std::vector<Posting> postings;
  std::string postings_json;  // as the answer shows them (and ledger_transactions stores them)
  std::string metadata = "{}";
  std::optional<std::string> reference;
  // A reversal (POST /transactions/{id}/reverse): the transaction it reverses, how much of it may
  // be reversed in all and how much this one reverses (see persistence::TransactionRecord).
  std::string reverses = {};
  int64_t reversible = 0;
  int64_t reversed_now = 0;
  int reversal_exponent = 0;
  // How much of it was reversed when the reversal was decided: a reversal that could exceed what is
  // left, counting racing reversals in flight here, waits until they settle and is then answered
  // kRecheck (nothing changed; the caller reads the transaction again).
  int64_t reversed_at_read = 0;
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
  // The 201 body, from the transaction's id and time (http/ renders it; it is also the outcome
  // stored with the key).
  std::function<std::string(const std::string& transaction_id, const std::string& created_at)>
      render;
  std::string transaction_id = {};  // given, or a fresh uuid
  // Beyond one machine: the accounts another instance serves, with their partitions. Payees among
  // them are credited in transit (as a cross-owner transfer's credit is); payers among them pay
  // through a hold their owner placed (below), captured by their owner once this instance's
  // commit decided the transaction.
  std::map<std::string, int> foreign = {};
  // The postings whose payer another instance serves, each with the hold placed for it there:
  // this instance writes none of their rows (the capture writes both, or the debit and the
  // credit in transit). Non-empty: the commit is the transaction's decision (`decides`).
  struct HeldPosting {
    int posting = -1;
    std::string payer;
    std::string hold_id;
  };
  std::vector<HeldPosting> held = {};
};

// Withdrawals and holds. A withdrawal takes money out of one account (checked against its available
// balance). A hold reserves money of from_user_id for to_user_id; capture is a TransferCommand with
// hold_id set; void and expiry close a hold in its payer's actor.
struct WithdrawCommand {
  std::string user_id;
  int64_t amount = 0;
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
  bool account_form = false;
};

struct HoldCommand {
  std::string from_user_id;
  std::string to_user_id;
  int64_t amount = 0;
  int64_t timeout_seconds = 0;
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
  bool account_form = false;
  std::string to_owner = {};  // the account form: the payee's user (for the answer)
  // Across owners: a hold of a transaction (HoldRecord::transaction_id), placed by the instance
  // that coordinates it under the id it chose; it never expires by time (timeout_seconds is
  // ignored) and its currency must be the payer's.
  std::string hold_id = {};
  std::string transaction_id = {};
  int posting = -1;
  std::string currency = {};
};

// PATCH /accounts/{id}, decided by the account's actor in its order (after everything
// before it has settled), committed through the writer. Answered 200 with an empty body once
// durable; the caller reads the account back.
struct AccountUpdate {
  std::string account_id;
  std::optional<persistence::AccountStatus> status;
  std::optional<int64_t> overdraft_limit;  // minor units of the account's currency
  std::optional<std::string> metadata;     // a JSON object's text
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
};

struct VoidCommand {
  std::string user_id;  // the payer, whose actor holds the hold
  std::string hold_id;
  std::optional<IdempotencyTag> tag;
  ReplyFn reply;
  Deadline deadline = kNoDeadline;
};

// The hold's time is up (the payer actor's own timer, or the sweeper for accounts not loaded).
struct ExpireHold {
  std::string user_id;
  std::string hold_id;
};

struct BalanceFigures {
  int64_t balance = 0;    // committed
  int64_t available = 0;  // balance + overdraft line - pending holds
  int exponent = 2;       // of the account's currency
};
struct AvailableQuery {
  std::string user_id;
  bool account_form = false;  // any account (else only a user's default account)
  std::function<void(domain::Result<BalanceFigures>)> reply;
  // While the account loads or reloads the query waits, until then at most (then `timeout`).
  Deadline deadline = kNoDeadline;
};

struct BalanceQuery {
  std::string user_id;
  std::function<void(domain::Result<int64_t>)> reply;
  Deadline deadline = kNoDeadline;  // as AvailableQuery's
};

// One account actor as it describes itself to the admin API.
struct AccountSnapshot {
  std::string user_id;
  std::string state;            // loading, idle, busy, waiting_on_transfer, missing, resyncing
  int64_t balance = 0;          // committed (durable) balance
  int64_t pending_balance = 0;  // including mutations not yet committed
  size_t mailbox_size = 0;
  size_t stashed = 0;
  uint64_t messages_handled = 0;
  int in_flight = 0;
  int64_t last_activity_ms = 0;  // Unix epoch milliseconds
  size_t holds_pending = 0;      // pending holds this account pays
  int64_t held = 0;              // their sum
  std::string currency = {};     // empty until loaded
  int exponent = 2;
};
struct InspectQuery {
  std::optional<std::string> user_id;  // one actor, or all of them when empty
  std::function<void(std::vector<AccountSnapshot>)> reply;
};

// Transfer protocol (see transfer_coordinator.hpp). One side of a transfer.
enum class LegRole { debit, credit };
struct ReserveRequest {
  std::string transfer_id;
  std::string user_id;
  LegRole role = LegRole::debit;
  int64_t amount = 0;
  caf::actor coordinator;
  Deadline deadline = kNoDeadline;
  std::string hold_id = {};   // a capture's debit leg consumes this hold
  bool account_form = false;  // a user-id form names default accounts only
  // A leg of a transaction of many postings whose net change is a credit, while the account pays
  // in one of its postings: refused as a debit is when the account is frozen.
  bool pays = false;
};
struct LegReservation {
  std::string transfer_id;  // the transfer it answers (the coordinator serves many)
  std::string user_id;
  caf::actor account;  // the actor now locked for this transfer (empty when refused)
  std::optional<domain::Error> refusal;
  persistence::LedgerEntry entry;
  std::string currency;  // the account's (a transfer's two must agree)
  std::string owner;     // the account's user
};

// Work for the LedgerWriter: one client operation's rows and outcome, the accounts to tell when it
// settles (with the balance each reaches), and how to answer the client.
struct WriteRequest {
  persistence::LedgerMutation mutation;
  std::vector<std::pair<caf::actor, int64_t>> participants;
  Reply on_commit;
  ReplyFn reply;
};

struct LoadResult {
  domain::Result<std::optional<int64_t>> balance{std::optional<int64_t>{}};
  std::vector<persistence::HoldRecord> holds;  // pending holds it pays, same snapshot
  persistence::AccountRecord rules;            // owner, currency, overdraft line, status
};

// An idempotent call handed to the IdempotencyGate: `execute` runs the operation once and must call
// the function it is given exactly once with the outcome.
struct IdempotentCall {
  IdempotencyTag tag;
  ReplyFn reply;
  std::function<void(ReplyFn)> execute;
  // Until the key's lookup is answered and the operation starts, the caller waits at most this
  // long; then it is answered `503 timeout` (nothing was executed).
  Deadline deadline = kNoDeadline;
};
struct StoredLookup {
  std::vector<std::pair<std::string, uint64_t>> slots;  // the slots (name, id) this lookup answers
  caf::actor_clock::time_point sent_at;  // when the lookup was sent (ages count from then)
  std::vector<persistence::IdempotencyOutcome> found;
  std::optional<domain::Error> error;  // the lookup failed: nothing is known about these keys
};

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::Reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::DepositCommand)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::TransferCommand)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::BalanceQuery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::AccountSnapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::InspectQuery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::ReserveRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::LegReservation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::WriteRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::LoadResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::IdempotentCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::StoredLookup)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::WithdrawCommand)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::HoldCommand)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::VoidCommand)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::ExpireHold)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::AvailableQuery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::AccountUpdate)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::TransactionCommand)
