// ModelLedgerRecords: the LedgerRecords of the protocol simulation, over a ModelLedger's state,
// with the semantics of the statements PostgresLedgerRecords runs (persistence/ledger_accounts.cpp,
// ledger_holds.cpp, ledger_across_owners.cpp, partition_store.cpp, account_store.cpp). Like the
// ModelLedger's own calls, each is held as a pending operation until the simulation completes it,
// with or without a fault (a fault answers `unavailable`, as a lost connection would).
//
// Modelled: opening and reading a user's default account (every account of the model is one),
// history, the partitions' owners and taking them, the transfers in transit and the hold sweep.
// An account's rows, its balance at an instant and the totals: model_ledger_queries.cpp.
// Not modelled (answered `unavailable`, which the Ledger passes on as Postgres' would be):
// POST /accounts, transactions by id and GET /transactions. A row's instant is its commit's
// virtual time (ModelRow::created_ms), but the answers' created_at are empty; rows in transit are
// "oldest" in transfer-id order and oldest_age_ms is 0.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "persistence/ledger_records.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

class ModelLedgerRecords : public persistence::LedgerRecords {
 public:
  // Reads and writes `model`'s state, and queues its operations on `model`'s pending list.
  explicit ModelLedgerRecords(std::shared_ptr<ModelLedger> model) : model_(std::move(model)) {}

  void create_account(persistence::NewAccount account, std::chrono::seconds ttl,
                      std::function<std::string(const persistence::AccountView&)> render,
                      persistence::Answer<persistence::AccountOpened> done) override;
  void open_account(std::string user_id, std::string created_at,
                    std::function<void(persistence::AccountOpening)> done) override;
  void account_view(std::string account_id,
                    persistence::Answer<std::optional<persistence::AccountView>> done) override;
  void account_views(std::vector<std::string> account_ids,
                     persistence::Answer<std::vector<persistence::AccountView>> done) override;
  void user_accounts(
      std::string user_id,
      persistence::Answer<std::optional<std::vector<persistence::AccountView>>> done) override;
  void history_page(std::string user_id, int limit, int64_t before,
                    persistence::Answer<std::optional<persistence::HistoryPage>> done) override;
  void find_transaction(
      std::string transaction_id,
      persistence::Answer<std::optional<persistence::TransactionView>> done) override;
  void ledger_totals(bool verify,
                     persistence::Answer<std::vector<persistence::CurrencyTotals>> done) override;
  void find_transactions(persistence::TransactionQuery query,
                         persistence::Answer<persistence::TransactionPage> done) override;
  void account_rows(persistence::AccountRowsQuery query,
                    persistence::Answer<std::optional<persistence::AccountRowsPage>> done) override;
  void balance_at(std::string account_id, std::optional<int64_t> at_us,
                  persistence::Answer<std::optional<persistence::BalanceAt>> done) override;
  void list_partitions(persistence::Answer<std::vector<persistence::PartitionOwner>> done) override;
  void take_partitions(std::vector<int> partitions, std::string instance_id,
                       persistence::Answer<std::vector<std::pair<int, int64_t>>> done) override;
  void in_transit_summary(int limit,
                          persistence::Answer<persistence::InTransitSummary> done) override;
  void sweep_overdue_holds(int limit, std::shared_ptr<const persistence::OwnedPartitions> only,
                           persistence::Answer<persistence::ExpirySweep> done) override;

  // How many times each method was called (by its name): which paths a schedule exercised.
  const std::map<std::string, int>& calls() const { return calls_; }
  // Negative control of the reads checks (--lagging-history): a first page of history answered
  // without the account's newest row, as a replica one commit behind would.
  void set_lagging_history(bool on) { lagging_history_ = on; }
  // Its calls may stall as the lookups before the writer do (ModelLedger::Pending::is_lookup):
  // --reads, whose reads then wait for seconds of virtual time while money moves.
  void set_stalls(bool on) { stalls_ = on; }

 private:
  // Counts a call of `method` and queues `read` as a pending operation named `what`: on
  // completion without a fault it runs on the state as it is then; with one, `failed` answers.
  void queue(const char* method, std::string what, std::function<void()> read,
             std::function<void()> failed);
  // The account as account_view reads it; nullopt when the model has no such account.
  std::optional<persistence::AccountView> view_of(const std::string& account_id) const;
  // What a store fault answers, what a query not modelled answers, a currency's exponent.
  static domain::Error unavailable();
  static domain::Error not_modelled(const char* what);
  static int exponent_of(const std::string& currency);

  std::shared_ptr<ModelLedger> model_;
  std::map<std::string, int> calls_;
  bool lagging_history_ = false;
  bool stalls_ = false;
};

}  // namespace wallet::simulation
