// The negative controls of the --postings SQL checks (--self-check-postings): inside the checks'
// transaction, private temporary copies of the run's rows of accounts, transactions,
// ledger_transactions, transaction_reversals and transfers_in_transit shadow the real tables
// (pg_temp comes first in the search path), and each named check gets a defect there that only it
// sees. Nothing real is written: the account actors keep their balances in memory and the service
// and other runs go on using the real rows. Each defect is one the schema's own constraints allow:
//   conservation  an account's balance counted in another currency (its currency relabelled to
//                 one of the same exponent): two currencies' totals off
//   zero-sum      one minor unit moved between two transactions' consecutive rows of one account
//                 (its chain and balance stay intact): two transactions that do not net to zero
//   partial       a record left by a refused key; a second record of a key answered 201 (a
//                 duplicate applied twice); a payment whose payer's two debit rows were merged
//                 into one (posting 1 has no debit, the account's chain and sums stay intact)
//   reversals     a second whole reversal of a reversed transaction of several postings;
//                 transaction_reversals off for a transaction of one posting
//   chain         a gap in one account's chain (its newest row shifted by one minor unit); one
//                 minor unit of balance moved from one account to another of the same currency
#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "tools/wallet_stress/postings_ledger.hpp"
#include "tools/wallet_stress/sql_shared.hpp"

namespace wallet::stress {
namespace {

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "}";
}

void shadow_tables(pqxx::work& txn, const PostingsCheckInput& in) {
  const std::string ids = in.setup.all_ids();
  std::vector<std::string> accepted;
  for (const auto& t : in.facts.accepted) accepted.push_back(t.transaction_id);
  const std::string accepted_ids = uuid_array(accepted);
  const std::string run = nlohmann::json{{"stress_run", in.plan.run_id}}.dump();
  auto copy = [&](const char* table) {
    return std::string("CREATE TEMP TABLE ") + table + " ON COMMIT DROP AS SELECT * FROM " +
           qualified_table(txn, table) + " WHERE ";
  };
  if (!has_temp_copy(txn, "accounts")) {
    txn.exec_params(copy("accounts") + "account_id = ANY($1::uuid[])", ids);
  }
  if (!has_temp_copy(txn, "transactions")) {
    txn.exec_params(copy("transactions") + "account_id = ANY($1::uuid[])", ids);
  }
  if (!has_temp_copy(txn, "ledger_transactions")) {
    txn.exec_params(copy("ledger_transactions") +
                        "metadata @> $1::jsonb OR transaction_id = ANY($2::uuid[])"
                        " OR reverses = ANY($2::uuid[])",
                    run, accepted_ids);
  }
  if (!has_temp_copy(txn, "transaction_reversals")) {
    txn.exec_params(copy("transaction_reversals") + "transaction_id = ANY($1::uuid[])",
                    accepted_ids);
  }
  const bool in_transit = !txn.exec("SELECT to_regclass('transfers_in_transit')")[0][0].is_null();
  if (in_transit && !has_temp_copy(txn, "transfers_in_transit")) {
    txn.exec_params(copy("transfers_in_transit") +
                        "from_user_id = ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                    ids);
  }
}

class DefectPlanter {
 public:
  DefectPlanter(pqxx::work& txn, const PostingsCheckInput& in)
      : txn_(txn), in_(in), ids_(in.setup.all_ids()) {
    const auto& c = in.setup.currencies.front();
    code_ = c.code;
    unit_ = domain::format_minor(1, c.exponent);
  }

  std::string missed() const { return missed_; }

  void conservation() {
    // A currency with a twin of the same exponent (USD, EUR), else an unknown code.
    std::string from = code_, to = "XXX";
    const auto& cs = in_.setup.currencies;
    for (size_t a = 0; a < cs.size() && to == "XXX"; ++a) {
      for (size_t b = 0; b < cs.size(); ++b) {
        if (a != b && cs[a].exponent == cs[b].exponent) {
          from = cs[a].code;
          to = cs[b].code;
          break;
        }
      }
    }
    expect(txn_.exec_params("UPDATE accounts SET currency = $2 WHERE account_id = ("
                            " SELECT account_id FROM accounts WHERE account_id = ANY($1::uuid[])"
                            " AND currency = $3 AND balance <> 0 ORDER BY account_id LIMIT 1)",
                            ids_, to, from),
           "conservation (an account's currency relabelled)");
  }

  void zero_sum() {
    const auto pair = txn_.exec_params(
        "WITH c AS ("
        "  SELECT id, kind, balance_change, transaction_id, lead(id) OVER w AS next_id,"
        "         lead(kind) OVER w AS next_kind, lead(balance_change) OVER w AS next_change,"
        "         lead(transaction_id) OVER w AS next_tx"
        "    FROM transactions WHERE account_id = ANY($1::uuid[]) AND currency = $2"
        "  WINDOW w AS (PARTITION BY account_id ORDER BY seq))"
        " SELECT id::text, next_id::text FROM c"
        "  WHERE kind IN ('posting_debit', 'posting_credit')"
        "    AND next_kind IN ('posting_debit', 'posting_credit') AND transaction_id <> next_tx"
        "    AND (balance_change > 0 OR balance_change < -$3::numeric)"
        "    AND (next_change < 0 OR next_change > $3::numeric)"
        "  ORDER BY id LIMIT 1",
        ids_, code_, unit_);
    if (pair.empty()) return miss("zero-sum (no two consecutive posting rows)");
    expect(txn_.exec_params("UPDATE transactions SET balance_change = balance_change + $2::numeric,"
                            " new_balance = new_balance + $2::numeric WHERE id = $1::uuid",
                            pair[0][0].c_str(), unit_),
           "zero-sum (the first row)");
    expect(txn_.exec_params("UPDATE transactions SET balance_change = balance_change - $2::numeric,"
                            " old_balance = old_balance + $2::numeric WHERE id = $1::uuid",
                            pair[0][1].c_str(), unit_),
           "zero-sum (the second row)");
  }

  void partial() {
    const AnsweredTransaction* duplicate = nullptr;
    const AnsweredTransaction* payment = nullptr;
    for (const auto& t : in_.facts.accepted) {
      const auto kind = in_.plan.ops[t.op].kind;
      if (!duplicate && !t.reversal && kind != PostingKind::fund) duplicate = &t;
      if (!payment && kind == PostingKind::payment && in_.facts.reversals_accepted[t.op] == 0) {
        payment = &t;
      }
    }
    int64_t refused = -1;
    for (size_t op = in_.plan.funding_ops; op < in_.plan.ops.size() && refused < 0; ++op) {
      const auto& k = in_.load.keys[op];
      if (in_.plan.ops[op].kind != PostingKind::reverse && k.status >= 400) refused = int64_t(op);
    }
    if (refused < 0) {
      miss("partial (no refused transaction)");
    } else {
      insert_record(domain::new_uuid_v4(), uint32_t(refused), "partial (a refused key's record)");
    }
    if (!duplicate) {
      miss("partial (no transaction answered 201)");
    } else {
      insert_record(domain::new_uuid_v4(), duplicate->op, "partial (a second record of a key)");
    }
    if (!payment) return miss("partial (no payment answered 201)");
    expect(txn_.exec_params(
               "UPDATE transactions t SET balance_change = t.balance_change + d.balance_change,"
               " new_balance = d.new_balance FROM transactions d"
               " WHERE d.transaction_id = $1::uuid AND d.posting = 1 AND d.kind = 'posting_debit'"
               "   AND t.transaction_id = $1::uuid AND t.posting = 0"
               "   AND t.kind = 'posting_debit' AND t.account_id = d.account_id",
               payment->transaction_id),
           "partial (a payment's debits merged)");
    expect(txn_.exec_params("DELETE FROM transactions WHERE transaction_id = $1::uuid"
                            " AND posting = 1 AND kind = 'posting_debit'",
                            payment->transaction_id),
           "partial (a payment's second debit gone)");
  }

  void reversals() {
    const AnsweredTransaction *several = nullptr, *one = nullptr;
    for (const auto& t : in_.facts.accepted) {
      if (t.reversal || in_.facts.reversals_accepted[t.op] == 0) continue;
      if (!several && t.postings.size() > 1 && in_.facts.reversals_accepted[t.op] == 1) {
        several = &t;
      }
      if (!one && t.postings.size() == 1) one = &t;
    }
    if (!several) {
      miss("reversals (no transaction of several postings reversed)");
    } else {
      expect(txn_.exec_params(
                 "INSERT INTO ledger_transactions (transaction_id, postings, metadata, reference,"
                 " reverses, created_at) SELECT $2::uuid, postings, metadata, reference, reverses,"
                 " created_at FROM ledger_transactions WHERE reverses = $1::uuid LIMIT 1",
                 several->transaction_id, domain::new_uuid_v4()),
             "reversals (a second whole reversal)");
    }
    if (!one) return miss("reversals (no transaction of one posting reversed)");
    const auto& p = one->postings.front();
    expect(txn_.exec_params(
               "UPDATE transaction_reversals SET reversed = CASE WHEN reversed < reversible"
               " THEN reversible ELSE reversed - $2::numeric END WHERE transaction_id = $1::uuid",
               one->transaction_id,
               domain::format_minor(1, in_.setup.currencies[p.currency].exponent)),
           "reversals (transaction_reversals off)");
  }

  void chain() {
    const auto& first = in_.setup.accounts[in_.setup.user_account(0, 0)].account_id;
    expect(txn_.exec_params("UPDATE transactions SET old_balance = old_balance + $2::numeric,"
                            " new_balance = new_balance + $2::numeric WHERE id = ("
                            " SELECT id FROM transactions WHERE account_id = $1::uuid"
                            " ORDER BY seq DESC LIMIT 1)",
                            first, unit_),
           "chain (a gap)");
    // Between the other users' accounts of the currency (each has a driver's expectation).
    std::string others = "{";
    for (size_t u = 1; u < in_.setup.run_users(); ++u) {
      others += (u > 1 ? "," : "") + in_.setup.accounts[in_.setup.user_account(u, 0)].account_id;
    }
    others += "}";
    const auto from = txn_.exec_params(
        "UPDATE accounts SET balance = balance - $2::numeric WHERE account_id = ("
        " SELECT account_id FROM accounts WHERE account_id = ANY($1::uuid[])"
        " AND balance >= $2::numeric ORDER BY account_id LIMIT 1) RETURNING account_id::text",
        others, unit_);
    if (from.size() != 1) return miss("chain (no account to move a minor unit from)");
    expect(
        txn_.exec_params("UPDATE accounts SET balance = balance + $2::numeric WHERE account_id = ("
                         " SELECT account_id FROM accounts WHERE account_id = ANY($1::uuid[])"
                         " AND account_id <> $3::uuid ORDER BY account_id LIMIT 1)",
                         others, unit_, from[0][0].c_str()),
        "chain (a minor unit moved to another account)");
  }

 private:
  // A record of op's request (its postings, metadata and reference) under a new id.
  void insert_record(const std::string& id, uint32_t op, const char* what) {
    auto body = nlohmann::json::parse(in_.plan.body(op, in_.setup));
    expect(txn_.exec_params("INSERT INTO ledger_transactions (transaction_id, postings, metadata,"
                            " reference, reverses, created_at)"
                            " VALUES ($1::uuid, $2::jsonb, $3::jsonb, $4, NULL, now())",
                            id, body["postings"].dump(), body["metadata"].dump(),
                            body["reference"].get<std::string>()),
           what);
  }

  void expect(const pqxx::result& r, const char* what) {
    if (r.affected_rows() != 1) miss(what);
  }
  void miss(const std::string& what) { missed_ += (missed_.empty() ? "" : "; ") + what; }

  pqxx::work& txn_;
  const PostingsCheckInput& in_;
  std::string ids_, code_, unit_;
  std::string missed_;
};

}  // namespace

std::string plant_postings_defects(pqxx::work& txn, const PostingsCheckInput& in) {
  shadow_tables(txn, in);
  DefectPlanter planter(txn, in);
  const auto& o = in.config.postings;
  if (o.plants("conservation")) planter.conservation();
  if (o.plants("zero-sum")) planter.zero_sum();
  if (o.plants("partial")) planter.partial();
  if (o.plants("reversals")) planter.reversals();
  if (o.plants("chain")) planter.chain();
  const std::string missed = planter.missed();
  return missed.empty() ? "" : "could not plant: " + missed;
}

}  // namespace wallet::stress
