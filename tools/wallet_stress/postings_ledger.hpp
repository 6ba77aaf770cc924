// The ledger of a --postings run as one REPEATABLE READ snapshot shows it (its accounts, their
// rows, the run's ledger_transactions records and transaction_reversals), read once and shared by
// the checks of postings_verifier.cpp and postings_records.cpp; and the negative controls that
// plant a defect per check in private temporary copies of those tables (postings_defects.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/postings_answers.hpp"

namespace wallet::stress {

struct PostingsCheckInput {
  const StressConfig& config;
  const PostingPlan& plan;
  const PostingsSetup& setup;
  const PostingsLoad& load;
  const PostingsFacts& facts;
};

struct LedgerRow {
  std::string account_id, currency, kind, transaction_id;  // transaction_id "" when NULL
  int posting = -1;                                        // -1 when NULL
  int64_t change = 0;
  bool parsed = true;  // the money columns parsed at the currency's exponent
};

// A posting of a ledger_transactions record, parsed.
struct RecordPosting {
  std::string from, to, currency;
  int64_t amount_minor = 0;
};

struct LedgerRecord {
  std::string transaction_id, reference, reverses;  // "" when NULL
  nlohmann::json metadata;
  std::vector<RecordPosting> postings;
  std::string problem;  // why its postings could not be read, if so
};

struct PostingsLedger {
  // account_id -> (currency, balance text)
  std::map<std::string, std::pair<std::string, std::string>> accounts;
  std::vector<LedgerRow> rows;                  // in commit order
  std::map<std::string, LedgerRecord> records;  // by transaction_id
  // transaction_id -> (reversible, reversed), as numeric text
  std::map<std::string, std::pair<std::string, std::string>> reversals;
  // (payer account, amount text) of the run's money in transit
  std::vector<std::pair<std::string, std::string>> in_transit;
};

// The exponent of a currency code of the run (nullopt for any other code).
std::optional<int> exponent_of(const PostingsSetup& setup, const std::string& code);
// Money at the currency's exponent as text ("12.30", "1500").
std::string money_text(const PostingsSetup& setup, const std::string& code, int64_t minor);

PostingsLedger read_postings_ledger(pqxx::work& txn, const PostingsCheckInput& in);

// postings_records.cpp: "no partial transaction" and "reversals within bounds".
InvariantResult check_no_partial_transaction(const PostingsCheckInput& in,
                                             const PostingsLedger& ledger);
InvariantResult check_reversal_bounds(const PostingsCheckInput& in, const PostingsLedger& ledger);

// postings_defects.cpp: with --self-check-postings, copies the run's rows of accounts,
// transactions, ledger_transactions, transaction_reversals and transfers_in_transit into private
// temporary tables that shadow the real ones inside `txn` (nothing real is written), and plants
// there the defects of the planted SQL checks. An error text when one could not be planted.
std::string plant_postings_defects(pqxx::work& txn, const PostingsCheckInput& in);

}  // namespace wallet::stress
