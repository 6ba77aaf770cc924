// The final database of a nemesis run as the checker sees it: every account and every ledger row
// (the stack is fresh per run, so all of them are the run's), and the money still in transit.
// Read from Postgres by `settle`, kept as JSON beside the history so `check` (and its planted
// defects) runs offline on a copy. Money in integer minor units, parsed from numeric text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wallet::nemesis {

struct LedgerRow {
  std::string id;
  int64_t seq = 0;  // commit order; within an account the order its actor applied the rows
  std::string account;
  std::string kind;
  int64_t change = 0;
  int64_t old_balance = 0;
  int64_t new_balance = 0;
  std::string transfer_id;     // transfers and captures
  std::string transaction_id;  // rows of POST /transactions
  std::string currency;
  std::string commit;  // the writing transaction's xmin: rows of one commit share it
};

struct AccountState {
  std::string id;
  std::string currency;
  int64_t balance = 0;
};

struct Snapshot {
  std::vector<AccountState> accounts;
  std::vector<LedgerRow> rows;                // in seq order
  std::map<std::string, int64_t> in_transit;  // per currency
};

Snapshot read_snapshot_from_db(const std::string& database_url);
void save_snapshot(const std::string& path, const Snapshot& snapshot);
Snapshot load_snapshot(const std::string& path);

// Numeric text ("-12.30") to minor units; throws on anything else (never a double).
int64_t minor_units(const std::string& text);

// Which operation a row belongs to: "tx:<transaction_id>", "tr:<transfer_id>" or "row:<id>"
// (a deposit or withdrawal of the release 1 and 2 endpoints is its own row).
std::string effect_key(const LedgerRow& row);

}  // namespace wallet::nemesis
