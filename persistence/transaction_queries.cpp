#include "persistence/transaction_queries.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "persistence/connection.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {
namespace {

// Each statement is one raw literal whose first line names it: scripts/explain-queries reads them
// from this file by that name.

constexpr const char* kAccountHead = R"sql(-- account_head: the account (404 when none) and now.
SELECT a.user_id::text, a.currency, a.balance,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  FROM accounts a
 WHERE a.account_id = $1::uuid
)sql";

// Rows of one account commit one batch after another (actors/ledger_writer.hpp: batches in flight
// share no account) and take their commit's now(), so along an account's seq created_at never
// decreases. The search halves a seq interval per step with one probe of transactions_account_seq:
// about log2(newest seq) probes (~34 for ten billion rows), however many rows lie on either side
// of the instant, where a backward scan filtered on created_at would read every row after it.
// Invariant: every row with seq <= lo is at or before the instant (the last of them was probed);
// the row at hi (when it exists) is after it. Each step moves lo up or hi down (a row found after
// the instant lies above lo), so it ends; `steps` bounds it anyway.
constexpr const char* kAccountSeqAt = R"sql(-- account_seq_at: last seq with created_at <= $2
WITH RECURSIVE search (lo, hi, steps) AS (
    SELECT 0::bigint,
           coalesce((SELECT max(t.seq) FROM transactions t WHERE t.account_id = $1::uuid), 0) + 1,
           0
  UNION ALL
    SELECT CASE WHEN probe.ok THEN (s.lo + s.hi) / 2 ELSE s.lo END,
           CASE WHEN probe.ok THEN s.hi ELSE probe.seq END,
           s.steps + 1
      FROM search s
      CROSS JOIN LATERAL (
        SELECT coalesce(bool_and(p.created_at <= $2::timestamptz), true) AS ok, max(p.seq) AS seq
          FROM (SELECT t.created_at, t.seq FROM transactions t
                 WHERE t.account_id = $1::uuid AND t.seq <= (s.lo + s.hi) / 2
                 ORDER BY t.seq DESC LIMIT 1) p) probe
     WHERE s.hi - s.lo > 1 AND s.steps < 64)
SELECT (SELECT t.seq FROM transactions t WHERE t.account_id = $1::uuid AND t.seq <= s.lo
         ORDER BY t.seq DESC LIMIT 1)
  FROM search s
 WHERE s.hi - s.lo <= 1 OR s.steps >= 64
)sql";

constexpr const char* kAccountRowBalance = R"sql(-- account_row_balance: the balance after a row
SELECT t.new_balance FROM transactions t WHERE t.account_id = $1::uuid AND t.seq = $2::bigint
)sql";

// $2/$3: the seq bounds (below, above) of the time range and the cursor (bounds_of), which select
// exactly the rows of the range; repeating the range on created_at would only make the planner
// expect few rows and sort the whole range instead of reading the newest ones in order.
constexpr const char* kAccountRows = R"sql(-- account_rows: a page of one account's rows
SELECT t.seq, t.id::text, coalesce(t.transaction_id, t.transfer_id, t.id)::text, t.kind,
       t.balance_change, t.old_balance, t.new_balance, coalesce(t.transfer_id::text, ''),
       to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  FROM transactions t
 WHERE t.account_id = $1::uuid AND t.seq < $2::bigint AND t.seq > $3::bigint
 ORDER BY t.seq DESC
 LIMIT $4::integer
)sql";

// A transaction of POST /transactions may have several rows on one account: it is placed at its
// newest one, so a later page ($4: the cursor) skips the rows of those placed at or above the
// cursor, shown before. The newest row of a row's transaction is looked up per row through
// transactions_posting_leg (at most 64 rows). Two shapes here would read far more: a NOT EXISTS
// is planned as a hash of every posting row above the cursor, and the account as a WHERE
// condition lets the planner AND in the account's whole range of transactions_account_seq (a
// million entries for a hot account, per row); hence a scalar subquery with the account in a
// FILTER. Transfers and captures have one row per account, deposits and withdrawals one row.
constexpr const char* kAccountTransactions = R"sql(-- account_transactions: an account's
SELECT t.seq, coalesce(t.transaction_id, t.transfer_id, t.id)::text, t.transaction_id IS NOT NULL
  FROM transactions t
 WHERE t.account_id = $1::uuid AND t.seq < $2::bigint AND t.seq > $3::bigint
   AND ($4::bigint IS NULL OR t.transaction_id IS NULL
        OR (SELECT max(o.seq) FILTER (WHERE o.account_id = t.account_id) FROM transactions o
             WHERE o.transaction_id IS NOT NULL AND o.transaction_id = t.transaction_id)
           < $4::bigint)
 ORDER BY t.seq DESC
 LIMIT $5::integer
)sql";

// Driven by ledger_transactions_reference (in order, the cursor and the range in its condition)
// or by the GIN index ledger_transactions_metadata (its matches sorted); the account, as a payer
// ($3) or a payee ($4) of a posting, filters what they find.
constexpr const char* kRecordedTransactions = R"sql(-- recorded_transactions: by reference, metadata
SELECT l.transaction_id::text, (extract(epoch FROM l.created_at) * 1000000)::bigint
  FROM ledger_transactions l
 WHERE ($1::text IS NULL OR l.reference = $1::text)
   AND ($2::jsonb IS NULL OR l.metadata @> $2::jsonb)
   AND ($3::jsonb IS NULL OR l.postings @> $3::jsonb OR l.postings @> $4::jsonb)
   AND ($5::timestamptz IS NULL OR l.created_at >= $5::timestamptz)
   AND ($6::timestamptz IS NULL OR l.created_at < $6::timestamptz)
   AND ($7::timestamptz IS NULL OR (l.created_at, l.transaction_id) < ($7::timestamptz, $8::uuid))
 ORDER BY l.created_at DESC, l.transaction_id DESC
 LIMIT $9::integer
)sql";

// The page's transactions as GET /transactions/{id} shows them (persistence/transaction_store.cpp
// reads one the same way).
constexpr const char* kRecordedViews = R"sql(-- recorded_views: transactions of POST /transactions
SELECT l.transaction_id::text, l.metadata::text, l.reference, coalesce(l.reverses::text, ''),
       to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       l.postings::text, r.reversed
  FROM ledger_transactions l
  LEFT JOIN transaction_reversals r ON r.transaction_id = l.transaction_id
 WHERE l.transaction_id = ANY ($1::uuid[])
)sql";

constexpr const char* kOperationViews = R"sql(-- operation_views: release 1 and 2 operations
SELECT coalesce(t.transfer_id, t.id)::text, t.account_id::text, t.currency, t.kind,
       t.balance_change, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       r.reversed, coalesce(m.to_user_id::text, '')
  FROM transactions t
  LEFT JOIN transaction_reversals r ON r.transaction_id = coalesce(t.transfer_id, t.id)
  LEFT JOIN transfers_in_transit m ON m.transfer_id = t.transfer_id
 WHERE t.transaction_id IS NULL
   AND (t.id = ANY ($1::uuid[])
        OR (t.transfer_id IS NOT NULL AND t.transfer_id = ANY ($1::uuid[])))
 ORDER BY t.seq
)sql";

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

std::optional<std::string> instant(const std::optional<int64_t>& at_us) {
  if (!at_us) return std::nullopt;
  return format_instant_us(*at_us);
}

// The seq of the account's last row at or before `at_us` (0: none).
int64_t seq_at(Snapshot& txn, const std::string& account_id, int64_t at_us) {
  if (at_us < kEarliestInstantUs) return 0;  // `from` at the earliest instant: nothing before
  auto row = txn->exec_params1(kAccountSeqAt, account_id, format_instant_us(at_us));
  return row[0].is_null() ? 0 : row[0].as<int64_t>();
}

// The account's rows of `range` lie in the seq interval (above, below).
struct SeqBounds {
  int64_t above = 0;
  int64_t below = std::numeric_limits<int64_t>::max();
};
SeqBounds bounds_of(Snapshot& txn, const std::string& account_id, const TimeRange& range,
                    int64_t before) {
  SeqBounds bounds;
  if (range.from_us) bounds.above = seq_at(txn, account_id, *range.from_us - 1);
  if (range.to_us) bounds.below = seq_at(txn, account_id, *range.to_us - 1) + 1;
  if (before > 0) bounds.below = std::min(bounds.below, before);
  return bounds;
}

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

// An operation of the release 1 and 2 endpoints: a transaction of one posting, from its rows (as
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

// Floor division for instants before 1970.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

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

std::optional<AccountRowsPage> account_rows(pqxx::connection& conn, const AccountRowsQuery& query) {
  Snapshot txn(conn);
  auto head = txn->exec_params(kAccountHead, query.account_id);
  if (head.empty()) return std::nullopt;
  AccountRowsPage page;
  page.user_id = head[0][0].c_str();
  page.currency = head[0][1].c_str();
  page.exponent = exponent_of(page.currency);
  const auto bounds = bounds_of(txn, query.account_id, query.range, query.before);
  if (bounds.below <= bounds.above + 1) return page;
  // One row more than asked tells whether another page follows.
  auto rows =
      txn->exec_params(kAccountRows, query.account_id, bounds.below, bounds.above, query.limit + 1);
  for (const auto& row : rows) {
    if (page.rows.size() == static_cast<size_t>(query.limit)) {
      page.next_before = rows[query.limit - 1][0].as<int64_t>();
      break;
    }
    page.rows.push_back(
        AccountRow{row[1].c_str(), row[2].c_str(), row[3].c_str(),
                   minor_units(row[4], page.exponent), minor_units(row[5], page.exponent),
                   minor_units(row[6], page.exponent), row[7].c_str(), row[8].c_str()});
  }
  return page;
}

std::optional<BalanceAt> balance_at(pqxx::connection& conn, const std::string& account_id,
                                    std::optional<int64_t> at_us) {
  Snapshot txn(conn);
  auto head = txn->exec_params(kAccountHead, account_id);
  if (head.empty()) return std::nullopt;
  BalanceAt answer;
  answer.currency = head[0][1].c_str();
  answer.exponent = exponent_of(answer.currency);
  if (!at_us) {
    answer.balance = minor_units(head[0][2], answer.exponent);
    answer.at = head[0][3].c_str();
    return answer;
  }
  answer.at = format_instant_us(*at_us);
  const int64_t seq = seq_at(txn, account_id, *at_us);
  if (seq == 0) return answer;  // before its first row
  auto row = txn->exec_params(kAccountRowBalance, account_id, seq);
  if (row.empty()) throw std::runtime_error("the row just found is gone from the snapshot");
  answer.balance = minor_units(row[0][0], answer.exponent);
  return answer;
}

std::string format_instant_us(int64_t at_us) {
  const int64_t days = floor_div(at_us, 86'400'000'000LL);
  int64_t rest = at_us - days * 86'400'000'000LL;  // 0 .. one day
  // Civil date of a day count (proleptic Gregorian; H. Hinnant's days_from_civil inverted).
  const int64_t z = days + 719'468;
  const int64_t era = floor_div(z, 146'097);
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  const int64_t micros = rest % 1'000'000;
  rest /= 1'000'000;
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60),
                static_cast<long long>(micros));
  return text;
}

const std::vector<QueryStatement>& query_statements() {
  static const std::vector<QueryStatement> statements{
      {"account_head", kAccountHead},
      {"account_seq_at", kAccountSeqAt},
      {"account_row_balance", kAccountRowBalance},
      {"account_rows", kAccountRows},
      {"account_transactions", kAccountTransactions},
      {"recorded_transactions", kRecordedTransactions},
      {"recorded_views", kRecordedViews},
      {"operation_views", kOperationViews},
  };
  return statements;
}

}  // namespace wallet::persistence
