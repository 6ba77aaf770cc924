// PostgresLedgerRecords: the LedgerRecords of the running service. Every call is one job on the
// DbPool (its threads, its bounded queue, its classification of failures), the reads each in the
// snapshot the persistence function takes; the answer comes on the pool thread that ran it.
#pragma once

#include "persistence/db_pool.hpp"
#include "persistence/ledger_records.hpp"

namespace wallet::persistence {

class PostgresLedgerRecords : public LedgerRecords {
 public:
  // `pool` outlives this object and every job it queued.
  explicit PostgresLedgerRecords(DbPool& pool) : pool_(pool) {}

  void create_account(NewAccount account, std::chrono::seconds ttl,
                      std::function<std::string(const AccountView&)> render,
                      Answer<AccountOpened> done) override;
  void open_account(std::string user_id, std::string created_at,
                    std::function<void(AccountOpening)> done) override;
  void account_view(std::string account_id, Answer<std::optional<AccountView>> done) override;
  void account_views(std::vector<std::string> account_ids,
                     Answer<std::vector<AccountView>> done) override;
  void user_accounts(std::string user_id,
                     Answer<std::optional<std::vector<AccountView>>> done) override;
  void history_page(std::string user_id, int limit, int64_t before,
                    Answer<std::optional<HistoryPage>> done) override;
  void find_transaction(std::string transaction_id,
                        Answer<std::optional<TransactionView>> done) override;
  void ledger_totals(bool verify, Answer<std::vector<CurrencyTotals>> done) override;
  void find_transactions(TransactionQuery query, Answer<TransactionPage> done) override;
  void account_rows(AccountRowsQuery query, Answer<std::optional<AccountRowsPage>> done) override;
  void balance_at(std::string account_id, std::optional<int64_t> at_us,
                  Answer<std::optional<BalanceAt>> done) override;
  void list_partitions(Answer<std::vector<PartitionOwner>> done) override;
  void take_partitions(std::vector<int> partitions, std::string instance_id,
                       Answer<std::vector<std::pair<int, int64_t>>> done) override;
  void in_transit_summary(int limit, Answer<InTransitSummary> done) override;
  void sweep_overdue_holds(int limit, std::shared_ptr<const OwnedPartitions> only,
                           Answer<ExpirySweep> done) override;

 private:
  DbPool& pool_;
};

}  // namespace wallet::persistence
