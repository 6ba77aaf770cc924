// Each call is the job the Ledger ran on the pool itself before LedgerRecords existed: the same
// operation name (the pool's logs and metrics), the same persistence function, the same answer.
#include "persistence/postgres_ledger_records.hpp"

#include "persistence/account_store.hpp"
#include "persistence/ledger_store.hpp"
#include "persistence/partition_store.hpp"
#include "persistence/transaction_queries.hpp"
#include "persistence/transaction_store.hpp"

namespace wallet::persistence {

void PostgresLedgerRecords::create_account(NewAccount account, std::chrono::seconds ttl,
                                           std::function<std::string(const AccountView&)> render,
                                           Answer<AccountOpened> done) {
  pool_.run<AccountOpened>(
      "create_account",
      [account = std::move(account), render = std::move(render), ttl](pqxx::connection& conn) {
        return persistence::create_account(conn, account, ttl, render);
      },
      std::move(done));
}

void PostgresLedgerRecords::open_account(std::string user_id, std::string created_at,
                                         std::function<void(AccountOpening)> done) {
  pool_.run_classified<bool>(
      "open_account",
      [user_id = std::move(user_id), created_at = std::move(created_at)](pqxx::connection& conn) {
        return persistence::open_account(conn, user_id, created_at);
      },
      [done = std::move(done)](DbResult<bool> inserted) {
        if (inserted)
          return done(*inserted ? AccountOpening::opened : AccountOpening::already_open);
        done(inserted.failure().kind == FailureKind::invalid_data ? AccountOpening::invalid
                                                                  : AccountOpening::unavailable);
      });
}

void PostgresLedgerRecords::account_view(std::string account_id,
                                         Answer<std::optional<AccountView>> done) {
  pool_.run<std::optional<AccountView>>(
      "account_view",
      [account_id = std::move(account_id)](pqxx::connection& conn) {
        return persistence::account_view(conn, account_id);
      },
      std::move(done));
}

void PostgresLedgerRecords::account_views(std::vector<std::string> account_ids,
                                          Answer<std::vector<AccountView>> done) {
  pool_.run<std::vector<AccountView>>(
      "account_views",
      [ids = std::move(account_ids)](pqxx::connection& conn) {
        return persistence::account_views(conn, ids);
      },
      std::move(done));
}

void PostgresLedgerRecords::user_accounts(std::string user_id,
                                          Answer<std::optional<std::vector<AccountView>>> done) {
  pool_.run<std::optional<std::vector<AccountView>>>(
      "user_accounts",
      [user_id = std::move(user_id)](pqxx::connection& conn) {
        return persistence::user_accounts(conn, user_id);
      },
      std::move(done));
}

void PostgresLedgerRecords::history_page(std::string user_id, int limit, int64_t before,
                                         Answer<std::optional<HistoryPage>> done) {
  pool_.run<std::optional<HistoryPage>>(
      "load_history",
      [user_id = std::move(user_id), limit, before](pqxx::connection& conn) {
        return persistence::load_history_page(conn, user_id, limit, before);
      },
      std::move(done));
}

void PostgresLedgerRecords::find_transaction(std::string transaction_id,
                                             Answer<std::optional<TransactionView>> done) {
  pool_.run<std::optional<TransactionView>>(
      "find_transaction",
      [id = std::move(transaction_id)](pqxx::connection& conn) {
        return persistence::find_transaction(conn, id);
      },
      std::move(done));
}

void PostgresLedgerRecords::ledger_totals(bool verify, Answer<std::vector<CurrencyTotals>> done) {
  pool_.run<std::vector<CurrencyTotals>>(
      "ledger_totals",
      [verify](pqxx::connection& conn) { return persistence::ledger_totals(conn, verify); },
      std::move(done));
}

void PostgresLedgerRecords::find_transactions(TransactionQuery query,
                                              Answer<TransactionPage> done) {
  pool_.run<TransactionPage>(
      "find_transactions",
      [query = std::move(query)](pqxx::connection& conn) {
        return persistence::find_transactions(conn, query);
      },
      std::move(done));
}

void PostgresLedgerRecords::account_rows(AccountRowsQuery query,
                                         Answer<std::optional<AccountRowsPage>> done) {
  pool_.run<std::optional<AccountRowsPage>>(
      "account_rows",
      [query = std::move(query)](pqxx::connection& conn) {
        return persistence::account_rows(conn, query);
      },
      std::move(done));
}

void PostgresLedgerRecords::balance_at(std::string account_id, std::optional<int64_t> at_us,
                                       Answer<std::optional<BalanceAt>> done) {
  pool_.run<std::optional<BalanceAt>>(
      "balance_at",
      [account_id = std::move(account_id), at_us](pqxx::connection& conn) {
        return persistence::balance_at(conn, account_id, at_us);
      },
      std::move(done));
}

void PostgresLedgerRecords::list_partitions(Answer<std::vector<PartitionOwner>> done) {
  pool_.run<std::vector<PartitionOwner>>(
      "list_partitions", [](pqxx::connection& conn) { return persistence::list_partitions(conn); },
      std::move(done));
}

void PostgresLedgerRecords::take_partitions(std::vector<int> partitions, std::string instance_id,
                                            Answer<std::vector<std::pair<int, int64_t>>> done) {
  pool_.run<std::vector<std::pair<int, int64_t>>>(
      "take_partitions",
      [partitions = std::move(partitions),
       instance = std::move(instance_id)](pqxx::connection& conn) {
        std::vector<std::pair<int, int64_t>> epochs;
        for (int partition : partitions) {
          epochs.emplace_back(partition, persistence::take_partition(conn, partition, instance));
        }
        return epochs;
      },
      std::move(done));
}

void PostgresLedgerRecords::in_transit_summary(int limit, Answer<InTransitSummary> done) {
  pool_.run<InTransitSummary>(
      "in_transit_summary",
      [limit](pqxx::connection& conn) { return persistence::in_transit_summary(conn, limit); },
      std::move(done));
}

void PostgresLedgerRecords::sweep_overdue_holds(int limit,
                                                std::shared_ptr<const OwnedPartitions> only,
                                                Answer<ExpirySweep> done) {
  pool_.run<ExpirySweep>(
      "sweep_overdue_holds",
      [limit, only = std::move(only)](pqxx::connection& conn) {
        return persistence::sweep_overdue_holds(conn, limit, only.get());
      },
      std::move(done));
}

}  // namespace wallet::persistence
