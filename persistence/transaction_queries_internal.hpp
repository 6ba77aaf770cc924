// Private to the ledger queries' files (persistence/transaction_queries.cpp,
// transaction_search.cpp, account_rows_queries.cpp): the statements, the read-only snapshot they
// run in, and the seq search of an instant. Nothing outside persistence/ includes it.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "persistence/transaction_queries.hpp"

namespace wallet::persistence::query_internal {

// The statements (transaction_queries.cpp, where scripts/explain-queries reads them by name).
extern const char* const kAccountHead;
extern const char* const kAccountSeqAt;
extern const char* const kAccountRowBalance;
extern const char* const kAccountRows;
extern const char* const kAccountTransactions;
extern const char* const kRecordedTransactions;
extern const char* const kRecordedViews;
extern const char* const kOperationViews;

// Every statement here reads through an index (SPEC.md section 8: "never a scan of the ledger").
// The planner is told so for the snapshot: an estimate skewed by one hot account or one common
// metadata value must not turn a page into a scan of a table of millions of rows.
class Snapshot {
 public:
  explicit Snapshot(pqxx::connection& conn) : txn_(conn) {
    txn_.exec("SET LOCAL enable_seqscan = off");
  }
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>& operator*() { return txn_; }
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>* operator->() { return &txn_; }

 private:
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn_;
};

// The instant's text (nullopt: none).
std::optional<std::string> instant(const std::optional<int64_t>& at_us);

// The seq of the account's last row at or before `at_us` (0: none).
int64_t seq_at(Snapshot& txn, const std::string& account_id, int64_t at_us);

// The account's rows of `range` lie in the seq interval (above, below).
struct SeqBounds {
  int64_t above = 0;
  int64_t below = std::numeric_limits<int64_t>::max();
};
SeqBounds bounds_of(Snapshot& txn, const std::string& account_id, const TimeRange& range,
                    int64_t before);

}  // namespace wallet::persistence::query_internal
