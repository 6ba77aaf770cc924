// GET /transactions in the ledger: transactions found by account (its rows newest first, each
// transaction once) or by reference and metadata, each shown as GET /transactions/{id} shows it.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "persistence/connection.hpp"
#include "persistence/stored_money.hpp"
#include "persistence/transaction_queries.hpp"
#include "persistence/transaction_queries_internal.hpp"

namespace wallet::persistence {
namespace {

using namespace query_internal;

PostingView posting_from_json(const nlohmann::json& item) {
  auto text = [&](const char* key) {
    auto it = item.find(key);
    if (it == item.end()) return std::string();
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  PostingView posting;
  posting.from = text("from");
  posting.to = text("to");
  posting.currency = text("currency");
  posting.exponent = exponent_of(posting.currency);
  auto amount = domain::parse_stored_minor(text("amount"), posting.exponent);
  if (!amount) throw std::runtime_error("unexpected posting amount in ledger_transactions");
  posting.amount = *amount;
  return posting;
}

void add_recorded_views(Snapshot& txn, const std::vector<std::string>& ids,
                        std::map<std::string, TransactionView>& views) {
  ArrayLiteral wanted;
  for (const auto& id : ids) wanted.plain(id);
  for (const auto& row : txn->exec_params(kRecordedViews, wanted.text())) {
    TransactionView view;
    view.transaction_id = row[0].c_str();
    view.metadata = row[1].c_str();
    if (!row[2].is_null()) view.reference = row[2].c_str();
    view.reverses = row[3].c_str();
    view.created_at = row[4].c_str();
    const auto postings = nlohmann::json::parse(row[5].c_str());
    for (const auto& item : postings) view.postings.push_back(posting_from_json(item));
    const int exponent = view.postings.size() == 1 ? view.postings.front().exponent : 0;
    view.reversed = row[6].is_null() ? 0 : minor_units(row[6], exponent);
    views[view.transaction_id] = std::move(view);
  }
}

// An operation of the single-operation endpoints (deposits, withdrawals, transfers, captures): a
// transaction of one posting, from its rows (as
// find_transaction reads it: a transfer whose credit is still in transit names its payee from the
// transit row).
void add_operation_views(Snapshot& txn, const std::vector<std::string>& ids,
                         std::map<std::string, TransactionView>& views) {
  ArrayLiteral wanted;
  for (const auto& id : ids) wanted.plain(id);
  std::map<std::string, std::vector<pqxx::row>> rows_of;  // in seq order
  const auto result = txn->exec_params(kOperationViews, wanted.text());
  for (const auto& row : result) rows_of[row[0].c_str()].push_back(row);
  for (const auto& [id, rows] : rows_of) {
    TransactionView view;
    view.transaction_id = id;
    view.created_at = rows.front()[5].c_str();
    PostingView posting;
    posting.from = posting.to = "@world";
    for (const auto& row : rows) {
      const std::string kind = row[3].c_str();
      posting.currency = row[2].c_str();
      posting.exponent = exponent_of(posting.currency);
      const int64_t change = minor_units(row[4], posting.exponent);
      posting.amount = change < 0 ? -change : change;
      auto& side = (kind == "transfer_debit" || kind == "withdrawal") ? posting.from : posting.to;
      side = row[1].c_str();
    }
    const auto& first = rows.front();
    if (rows.size() == 1 && std::string(first[3].c_str()) == "transfer_debit" &&
        first[7].size() > 0) {
      posting.to = first[7].c_str();  // across owners, the credit may still be in transit
    }
    view.reversed = first[6].is_null() ? 0 : minor_units(first[6], posting.exponent);
    view.postings.push_back(std::move(posting));
    views[id] = std::move(view);
  }
}

// The views of `ids` in their order; `recorded[i]`: ids[i] is a transaction of POST /transactions.
std::vector<TransactionView> views_of(Snapshot& txn, const std::vector<std::string>& ids,
                                      const std::vector<bool>& recorded) {
  std::vector<std::string> of_record, of_rows;
  for (size_t i = 0; i < ids.size(); ++i) (recorded[i] ? of_record : of_rows).push_back(ids[i]);
  std::map<std::string, TransactionView> views;
  if (!of_record.empty()) add_recorded_views(txn, of_record, views);
  if (!of_rows.empty()) add_operation_views(txn, of_rows, views);
  std::vector<TransactionView> ordered;
  ordered.reserve(ids.size());
  for (const auto& id : ids) {
    auto it = views.find(id);
    // Rows and their record commit together: one without the other is a broken ledger.
    if (it == views.end()) throw std::runtime_error("transaction " + id + " has rows but no view");
    ordered.push_back(std::move(it->second));
  }
  return ordered;
}

// By account: its rows newest first, each transaction once, at its newest row. Reads chunks of
// rows until limit + 1 transactions are found (the extra one says another page follows); a
// transaction has at most 2 * 32 rows, so the chunks are few.
TransactionPage by_account(Snapshot& txn, const TransactionQuery& query) {
  const std::string& account = *query.account_id;
  const int64_t shown = query.before ? query.before->seq : 0;
  const auto bounds = bounds_of(txn, account, query.range, shown);
  // As text: GCC 12 warns of a maybe-uninitialized optional<int64_t> inside libpqxx.
  std::optional<std::string> cursor;
  if (shown > 0) cursor = std::to_string(shown);
  const int chunk = query.limit + 1;
  std::vector<std::string> ids;
  std::vector<bool> recorded;
  std::vector<int64_t> places;
  std::unordered_set<std::string> seen;
  int64_t below = bounds.below;
  while (ids.size() <= static_cast<size_t>(query.limit) && below > bounds.above + 1) {
    auto rows = txn->exec_params(kAccountTransactions, account, below, bounds.above, cursor, chunk);
    for (const auto& row : rows) {
      below = row[0].as<int64_t>();
      if (!seen.insert(row[1].c_str()).second) continue;
      ids.push_back(row[1].c_str());
      recorded.push_back(row[2].as<bool>());
      places.push_back(below);
      if (ids.size() > static_cast<size_t>(query.limit)) break;
    }
    if (rows.size() < static_cast<size_t>(chunk)) break;
  }
  TransactionPage page;
  if (ids.size() > static_cast<size_t>(query.limit)) {
    ids.resize(query.limit);
    recorded.resize(query.limit);
    page.next = TransactionCursor{false, places[query.limit - 1], 0, ""};
  }
  page.transactions = views_of(txn, ids, recorded);
  return page;
}

std::optional<std::string> side_filter(const std::optional<std::string>& account,
                                       const char* side) {
  if (!account) return std::nullopt;
  return nlohmann::json::array({{{side, *account}}}).dump();
}

// By reference and/or metadata: transactions of POST /transactions only (the others have
// neither).
TransactionPage by_record(Snapshot& txn, const TransactionQuery& query) {
  std::optional<std::string> before_at, before_id;
  if (query.before) {
    before_at = format_instant_us(query.before->created_us);
    before_id = query.before->transaction_id;
  }
  auto rows = txn->exec_params(kRecordedTransactions, query.reference, query.metadata,
                               side_filter(query.account_id, "from"),
                               side_filter(query.account_id, "to"), instant(query.range.from_us),
                               instant(query.range.to_us), before_at, before_id, query.limit + 1);
  TransactionPage page;
  std::vector<std::string> ids;
  for (const auto& row : rows) {
    if (ids.size() == static_cast<size_t>(query.limit)) {
      const auto& last = rows[query.limit - 1];
      page.next = TransactionCursor{true, 0, last[1].as<int64_t>(), last[0].c_str()};
      break;
    }
    ids.push_back(row[0].c_str());
  }
  page.transactions = views_of(txn, ids, std::vector<bool>(ids.size(), true));
  return page;
}

}  // namespace

bool by_record(const TransactionQuery& query) {
  return query.reference.has_value() || query.metadata.has_value();
}

TransactionPage find_transactions(pqxx::connection& conn, const TransactionQuery& query) {
  Snapshot txn(conn);
  if (by_record(query)) return by_record(txn, query);
  if (!query.account_id) throw std::invalid_argument("a transaction query needs a filter");
  return by_account(txn, query);
}

}  // namespace wallet::persistence
