// Transactions as clients read them (SPEC.md section 8): GET /transactions/{id} for a transaction
// of POST /transactions (ledger_transactions, migration 011) and for every operation of the
// single-operation endpoints, which is a transaction of one posting read from its rows (a deposit
// from @world, a withdrawal to @world, a transfer or capture between its two accounts, its credit
// perhaps still in transit). Reads of committed state; each call throws libpqxx exceptions
// (DbPool classifies them); run them on a DbPool thread.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace wallet::persistence {

// One posting: `from`/`to` an account id or "@world"; the amount in minor units of its currency.
struct PostingView {
  std::string from;
  std::string to;
  int64_t amount = 0;
  std::string currency;
  int exponent = 2;
};

struct TransactionView {
  std::string transaction_id;
  std::vector<PostingView> postings;
  std::string metadata = "{}";  // a JSON object's text
  std::optional<std::string> reference;
  std::string reverses;    // the transaction this one reverses (empty: none)
  std::string created_at;  // RFC 3339, UTC
  // How much of it has been reversed: for one posting, in its minor units; for several, 1 once
  // reversed (reversals of several postings are whole).
  int64_t reversed = 0;
};

std::optional<TransactionView> find_transaction(pqxx::connection& conn,
                                                const std::string& transaction_id);

// GET /admin/totals: per currency, the money of every account, the money in transit between
// owners, and @world's balance (the outside, which has no row): minus (deposits - withdrawals).
// Read in one snapshot. @world is accounts + in transit, negated (what the ledger's invariant
// makes it); with `verify` it is also summed from the deposit and withdrawal rows (a scan of the
// ledger) and `rows_agree` tells whether both agree.
struct CurrencyTotals {
  std::string currency;
  int exponent = 2;
  int64_t accounts = 0;
  int64_t in_transit = 0;
  int64_t world = 0;
  std::optional<int64_t> world_from_rows;  // with verify only
};
std::vector<CurrencyTotals> ledger_totals(pqxx::connection& conn, bool verify);

}  // namespace wallet::persistence
