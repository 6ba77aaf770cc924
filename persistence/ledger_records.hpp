// LedgerRecords: what the Ledger asks of storage outside the account protocol (LedgerBackend has
// the protocol's loads, lookups and commits): opening and reading accounts, an account's history,
// the queries, transactions and totals, the partitions' owners, the transfers in transit and the
// sweep of overdue holds. Postgres answers in the service (postgres_ledger_records.hpp), an
// in-memory model in the protocol simulation (test/simulation/model_ledger_records.hpp).
//
// Contract of every call: `done` is called exactly once, on any thread (possibly before the call
// returns), with the outcome. None of them waits on an account's actor: reads are of committed
// state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"
#include "persistence/ledger_types.hpp"
#include "persistence/owned_partitions.hpp"
#include "persistence/transaction_query_types.hpp"
#include "persistence/transaction_views.hpp"

namespace wallet::persistence {

// How POST /accounts ended.
struct AccountOpened {
  enum class Kind { created, user_not_found, stored_outcome } kind = Kind::created;
  AccountView account;        // created
  IdempotencyOutcome stored;  // stored_outcome: an earlier request's answer under the same key
};

// How opening a user's default account ended (the Kafka consumer commits its offset or
// dead-letters on it).
enum class AccountOpening {
  opened,        // the account row was inserted now
  already_open,  // it existed (a redelivered event): nothing changed
  invalid,       // the store refused the values (Postgres: SQLSTATE class 22): retrying cannot help
  unavailable,   // anything else (outage, failover, missing schema): retry later
};

struct HistoryRow {
  std::string id;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
  std::string kind;
  std::string transfer_id;
  std::string created_at;  // RFC 3339, UTC
};

// One page of history, newest first: rows with seq < before (all when before is 0), at most
// `limit`; next_before is the seq to continue from, 0 on the last page.
struct HistoryPage {
  std::vector<HistoryRow> rows;
  int64_t next_before = 0;
  int exponent = 2;  // of the account's currency
};

// Pending holds whose expires_at has passed (at most `limit`), and how many holds are pending.
struct ExpirySweep {
  std::vector<HoldRecord> overdue;
  int64_t pending = 0;
};

// How a call answers: its value, or the error a client may see (unavailable when retryable).
template <class T>
using Answer = std::function<void(domain::Result<T>)>;

class LedgerRecords {
 public:
  virtual ~LedgerRecords() = default;

  // Accounts (SPEC.md section 8). Opens `account` with, when account.outcome is set, the
  // idempotency outcome `render(account as inserted)` in the same transaction; a key already
  // stored within `ttl` answers that outcome and opens nothing.
  virtual void create_account(NewAccount account, std::chrono::seconds ttl,
                              std::function<std::string(const AccountView&)> render,
                              Answer<AccountOpened> done) = 0;
  // Opens a new user's default account (balance 0) unless it exists.
  virtual void open_account(std::string user_id, std::string created_at,
                            std::function<void(AccountOpening)> done) = 0;
  virtual void account_view(std::string account_id, Answer<std::optional<AccountView>> done) = 0;
  // Every account among `account_ids` that exists (any order).
  virtual void account_views(std::vector<std::string> account_ids,
                             Answer<std::vector<AccountView>> done) = 0;
  // Every account of a user, oldest first; nullopt when the user has no default account.
  virtual void user_accounts(std::string user_id,
                             Answer<std::optional<std::vector<AccountView>>> done) = 0;

  // One page of a user's history (HistoryPage); nullopt when there is no such account.
  virtual void history_page(std::string user_id, int limit, int64_t before,
                            Answer<std::optional<HistoryPage>> done) = 0;

  // Transactions and the queries (transaction_views.hpp, transaction_query_types.hpp).
  virtual void find_transaction(std::string transaction_id,
                                Answer<std::optional<TransactionView>> done) = 0;
  virtual void ledger_totals(bool verify, Answer<std::vector<CurrencyTotals>> done) = 0;
  virtual void find_transactions(TransactionQuery query, Answer<TransactionPage> done) = 0;
  virtual void account_rows(AccountRowsQuery query,
                            Answer<std::optional<AccountRowsPage>> done) = 0;
  virtual void balance_at(std::string account_id, std::optional<int64_t> at_us,
                          Answer<std::optional<BalanceAt>> done) = 0;

  // Beyond one machine: every partition with its owner and epoch, in order.
  virtual void list_partitions(Answer<std::vector<PartitionOwner>> done) = 0;
  // Takes each of `partitions` for `instance_id` (bumping its epoch); answers each new epoch.
  virtual void take_partitions(std::vector<int> partitions, std::string instance_id,
                               Answer<std::vector<std::pair<int, int64_t>>> done) = 0;
  // Every transfer in transit: how many, their total, and the oldest `limit` of them.
  virtual void in_transit_summary(int limit, Answer<InTransitSummary> done) = 0;

  // Pending holds past their expires_at, at most `limit`, and how many holds are pending;
  // `only`: just those whose payer lies in a partition it serves (null: all).
  virtual void sweep_overdue_holds(int limit, std::shared_ptr<const OwnedPartitions> only,
                                   Answer<ExpirySweep> done) = 0;
};

}  // namespace wallet::persistence
