// Transactions and totals as clients read them (SPEC.md section 8): the records of
// GET /transactions/{id} and GET /admin/totals. Plain data, no I/O (transaction_store.hpp reads
// them from Postgres).
#pragma once

#include <cstdint>
#include <optional>
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

}  // namespace wallet::persistence
