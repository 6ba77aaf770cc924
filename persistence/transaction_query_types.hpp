// The queries of the ledger as clients ask and read them (SPEC.md section 8, "Metadata, queries,
// balances in the past"): the filters and cursors of GET /transactions and
// GET /accounts/{id}/transactions, their pages, and a balance at an instant. Plain data, no I/O
// (transaction_queries.hpp runs them on Postgres).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "persistence/transaction_views.hpp"

namespace wallet::persistence {

// Instants are microseconds since the Unix epoch, UTC: the resolution of a Postgres timestamptz.
// The queries take years 1 to 9999 (what RFC 3339 writes).
constexpr int64_t kEarliestInstantUs = -62'135'596'800'000'000;  // 0001-01-01T00:00:00Z
constexpr int64_t kLatestInstantUs = 253'402'300'799'999'999;    // 9999-12-31T23:59:59.999999Z
struct TimeRange {
  std::optional<int64_t> from_us;  // created_at >= from
  std::optional<int64_t> to_us;    // created_at < to
};

// Where a page of GET /transactions ended. Two orders, chosen by the filters (by_record):
// - by account only: the account's rows, newest first (seq); a transaction is placed at its
//   newest row on the account;
// - with a reference or a metadata filter: the transactions of POST /transactions (the only ones
//   with either), newest first by (created_at, transaction_id).
struct TransactionCursor {
  bool by_record = false;
  int64_t seq = 0;             // by account: the place of the page's last transaction
  int64_t created_us = 0;      // by record: the last transaction's created_at
  std::string transaction_id;  // and its id
};

// GET /transactions: every filter given must hold (AND); at least one of account_id, reference
// or metadata is given (the HTTP layer refuses a query without).
struct TransactionQuery {
  std::optional<std::string> account_id;  // canonical uuid
  std::optional<std::string> reference;
  std::optional<std::string> metadata;  // a JSON object's text that the metadata must contain
  TimeRange range;
  int limit = 50;
  std::optional<TransactionCursor> before;  // of the order by_record(query) gives
};
bool by_record(const TransactionQuery& query);

struct TransactionPage {
  std::vector<TransactionView> transactions;  // each as find_transaction reads it
  std::optional<TransactionCursor> next;      // nullopt on the last page
};

// GET /accounts/{id}/transactions: one account's rows, newest first, as the history of
// GET /users/{id}/transactions pages them (the cursor is a seq; rows with seq < before).
struct AccountRowsQuery {
  std::string account_id;
  TimeRange range;
  int limit = 50;
  int64_t before = 0;  // 0: from the newest
};
struct AccountRow {
  std::string id;
  std::string transaction_id;  // its transaction (GET /transactions/{id})
  std::string kind;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
  std::string transfer_id;  // empty: none
  std::string created_at;   // RFC 3339, UTC
};
struct AccountRowsPage {
  std::string user_id;  // the account's owner
  std::string currency;
  int exponent = 2;
  std::vector<AccountRow> rows;
  int64_t next_before = 0;  // 0 on the last page
};

// GET /accounts/{id}/balance: the new_balance of the account's last row committed at or before
// `at_us` (0 before its first row); without `at_us`, the committed balance now.
struct BalanceAt {
  std::string currency;
  int exponent = 2;
  int64_t balance = 0;
  std::string at;  // the instant answered for, RFC 3339 UTC with microseconds
};

}  // namespace wallet::persistence
