#include "persistence/transaction_store.hpp"

#include <map>

#include "persistence/stored_money.hpp"

namespace wallet::persistence {
namespace {

int64_t reversed_of(pqxx::nontransaction& txn, const std::string& transaction_id, int exponent) {
  auto rows = txn.exec_params(
      "SELECT reversed FROM transaction_reversals WHERE transaction_id = $1::uuid", transaction_id);
  return rows.empty() ? 0 : minor_units(rows[0][0], exponent);
}

// A transaction of POST /transactions, from its record.
std::optional<TransactionView> recorded(pqxx::nontransaction& txn,
                                        const std::string& transaction_id) {
  auto head =
      txn.exec_params(std::string("SELECT metadata::text, reference, coalesce(reverses::text, ''),"
                                  " to_char(created_at AT TIME ZONE 'UTC', '") +
                          kRfc3339 + "') FROM ledger_transactions WHERE transaction_id = $1::uuid",
                      transaction_id);
  if (head.empty()) return std::nullopt;
  TransactionView view;
  view.transaction_id = transaction_id;
  view.metadata = head[0][0].c_str();
  if (!head[0][1].is_null()) view.reference = head[0][1].c_str();
  view.reverses = head[0][2].c_str();
  view.created_at = head[0][3].c_str();
  auto postings = txn.exec_params(
      "SELECT p.item ->> 'from', p.item ->> 'to', p.item ->> 'amount', p.item ->> 'currency'"
      " FROM ledger_transactions t, jsonb_array_elements(t.postings) WITH ORDINALITY"
      "   AS p(item, ord)"
      " WHERE t.transaction_id = $1::uuid ORDER BY p.ord",
      transaction_id);
  for (const auto& row : postings) {
    PostingView posting;
    posting.from = row[0].c_str();
    posting.to = row[1].c_str();
    posting.currency = row[3].c_str();
    posting.exponent = exponent_of(posting.currency);
    posting.amount = minor_units(row[2], posting.exponent);
    view.postings.push_back(std::move(posting));
  }
  const int exponent = view.postings.size() == 1 ? view.postings.front().exponent : 0;
  view.reversed = reversed_of(txn, transaction_id, exponent);
  return view;
}

// An operation of the single-operation endpoints: a transaction of one posting, from its rows.
std::optional<TransactionView> from_rows(pqxx::nontransaction& txn,
                                         const std::string& transaction_id) {
  auto rows = txn.exec_params(
      std::string("SELECT account_id::text, currency, kind, balance_change::text,"
                  " to_char(created_at AT TIME ZONE 'UTC', '") +
          kRfc3339 +
          "') FROM transactions"
          " WHERE transaction_id IS NULL AND (id = $1::uuid OR transfer_id = $1::uuid)"
          " ORDER BY seq",
      transaction_id);
  if (rows.empty()) return std::nullopt;
  TransactionView view;
  view.transaction_id = transaction_id;
  PostingView posting;
  posting.from = posting.to = "@world";
  for (const auto& row : rows) {
    const std::string kind = row[2].c_str();
    posting.currency = row[1].c_str();
    posting.exponent = exponent_of(posting.currency);
    const int64_t change = minor_units(row[3], posting.exponent);
    posting.amount = change < 0 ? -change : change;
    if (kind == "transfer_debit" || kind == "withdrawal") {
      posting.from = row[0].c_str();
    } else {
      posting.to = row[0].c_str();
    }
    if (view.created_at.empty()) view.created_at = row[4].c_str();
  }
  if (rows[0][2].as<std::string>() == "transfer_debit" && rows.size() == 1) {
    // Across owners, the credit may still be in transit.
    auto leg = txn.exec_params(
        "SELECT to_user_id::text FROM transfers_in_transit WHERE transfer_id = $1::uuid",
        transaction_id);
    if (!leg.empty()) posting.to = leg[0][0].c_str();
  }
  view.postings.push_back(std::move(posting));
  view.reversed = reversed_of(txn, transaction_id, view.postings.front().exponent);
  return view;
}

}  // namespace

std::optional<TransactionView> find_transaction(pqxx::connection& conn,
                                                const std::string& transaction_id) {
  pqxx::nontransaction txn(conn);
  if (auto view = recorded(txn, transaction_id)) return view;
  return from_rows(txn, transaction_id);
}

std::vector<CurrencyTotals> ledger_totals(pqxx::connection& conn, bool verify) {
  pqxx::read_transaction txn(conn);  // one snapshot: accounts, transit and rows agree
  std::map<std::string, CurrencyTotals> by_code;
  auto entry = [&](const std::string& code) -> CurrencyTotals& {
    auto& totals = by_code[code];
    totals.currency = code;
    totals.exponent = exponent_of(code);
    return totals;
  };
  for (const auto& row : txn.exec("SELECT currency, sum(balance)::text FROM accounts GROUP BY 1")) {
    auto& totals = entry(row[0].c_str());
    totals.accounts = minor_units(row[1], totals.exponent);
  }
  for (const auto& row :
       txn.exec("SELECT a.currency, sum(m.amount)::text FROM transfers_in_transit m"
                " JOIN accounts a ON a.account_id = m.from_user_id GROUP BY 1")) {
    auto& totals = entry(row[0].c_str());
    totals.in_transit = minor_units(row[1], totals.exponent);
  }
  if (verify) {
    for (const auto& row :
         txn.exec("SELECT currency, coalesce(sum(balance_change), 0)::text FROM transactions"
                  " WHERE kind IN ('deposit', 'withdrawal') GROUP BY 1")) {
      auto& totals = entry(row[0].c_str());
      totals.world_from_rows = -minor_units(row[1], totals.exponent);
    }
  }
  std::vector<CurrencyTotals> out;
  for (auto& [code, totals] : by_code) {
    totals.world = -(totals.accounts + totals.in_transit);
    if (verify && !totals.world_from_rows) totals.world_from_rows = 0;
    out.push_back(std::move(totals));
  }
  return out;
}

}  // namespace wallet::persistence
