// The ledger queries' statements (each a raw literal named on its first line:
// scripts/explain-queries reads them from this file) and what the queries share: the seq search of
// an instant and the RFC 3339 text of one. The queries: transaction_search.cpp (GET /transactions),
// account_rows_queries.cpp (an account's rows, its balance in the past).
#include "persistence/transaction_queries.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "persistence/transaction_queries_internal.hpp"

namespace wallet::persistence {
namespace query_internal {

// Each statement is one raw literal whose first line names it: scripts/explain-queries reads them
// from this file by that name.

const char* const kAccountHead = R"sql(-- account_head: the account (404 when none) and now.
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
const char* const kAccountSeqAt = R"sql(-- account_seq_at: last seq with created_at <= $2
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

const char* const kAccountRowBalance = R"sql(-- account_row_balance: the balance after a row
SELECT t.new_balance FROM transactions t WHERE t.account_id = $1::uuid AND t.seq = $2::bigint
)sql";

// $2/$3: the seq bounds (below, above) of the time range and the cursor (bounds_of), which select
// exactly the rows of the range; repeating the range on created_at would only make the planner
// expect few rows and sort the whole range instead of reading the newest ones in order.
const char* const kAccountRows = R"sql(-- account_rows: a page of one account's rows
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
const char* const kAccountTransactions = R"sql(-- account_transactions: an account's
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
const char* const kRecordedTransactions = R"sql(-- recorded_transactions: by reference, metadata
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
const char* const kRecordedViews = R"sql(-- recorded_views: transactions of POST /transactions
SELECT l.transaction_id::text, l.metadata::text, l.reference, coalesce(l.reverses::text, ''),
       to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       l.postings::text, r.reversed
  FROM ledger_transactions l
  LEFT JOIN transaction_reversals r ON r.transaction_id = l.transaction_id
 WHERE l.transaction_id = ANY ($1::uuid[])
)sql";

const char* const kOperationViews = R"sql(-- operation_views: release 1 and 2 operations
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
SeqBounds bounds_of(Snapshot& txn, const std::string& account_id, const TimeRange& range,
                    int64_t before) {
  SeqBounds bounds;
  if (range.from_us) bounds.above = seq_at(txn, account_id, *range.from_us - 1);
  if (range.to_us) bounds.below = seq_at(txn, account_id, *range.to_us - 1) + 1;
  if (before > 0) bounds.below = std::min(bounds.below, before);
  return bounds;
}

}  // namespace query_internal

namespace {

// Floor division for instants before 1970.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

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
  using namespace query_internal;
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
