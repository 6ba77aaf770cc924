// The --postings checks in Postgres: the snapshot, conservation, zero sum, the accounts' chains.
#include "tools/wallet_stress/postings_verifier.hpp"

#include <cstdio>
#include <set>

#include "domain/currency.hpp"
#include "tools/wallet_stress/sql_shared.hpp"

namespace wallet::stress {
namespace {

std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + ids[i];
  return out + "}";
}

std::string accepted_ids(const PostingsFacts& facts) {
  std::vector<std::string> ids;
  for (const auto& t : facts.accepted) ids.push_back(t.transaction_id);
  return uuid_array(ids);
}

std::string text(const pqxx::field& field) { return field.is_null() ? "" : field.c_str(); }

// Every account of the run with the exponent of the currency it was opened in.
std::vector<std::pair<std::string, int>> run_accounts(const PostingsSetup& setup) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& a : setup.accounts) out.emplace_back(a.account_id, a.exponent);
  out.emplace_back(setup.users.back().user_id, setup.currencies.front().exponent);  // the house's
  return out;
}

LedgerRecord read_record(const pqxx::row& r, const PostingsSetup& setup) {
  LedgerRecord record;
  record.transaction_id = text(r[0]);
  record.metadata = nlohmann::json::parse(text(r[2]), nullptr, false);
  record.reference = text(r[3]);
  record.reverses = text(r[4]);
  auto postings = nlohmann::json::parse(text(r[1]), nullptr, false);
  if (!postings.is_array()) {
    record.problem = "postings are not an array";
    postings = nlohmann::json::array();
  }
  for (auto& p : postings) {  // not const: reading a missing field of a const json is undefined
    RecordPosting posting;
    const bool fields = p.is_object() && p["from"].is_string() && p["to"].is_string() &&
                        p["currency"].is_string() && p["amount"].is_string();
    if (fields) {
      posting.from = p["from"].get<std::string>();
      posting.to = p["to"].get<std::string>();
      posting.currency = p["currency"].get<std::string>();
      const auto e = exponent_of(setup, posting.currency);
      const auto amount =
          e ? domain::parse_stored_minor(p["amount"].get<std::string>(), *e) : std::nullopt;
      if (amount) posting.amount_minor = *amount;
    }
    if (!fields || posting.amount_minor <= 0) record.problem = "a posting unreadable: " + p.dump();
    record.postings.push_back(std::move(posting));
  }
  return record;
}

// Per currency: balances (+ in transit) = @world deposits - withdrawals of the rows = the driver's.
InvariantResult check_conservation(const PostingsCheckInput& in, const PostingsLedger& ledger) {
  InvariantResult result(
      "sql: postings: per currency, sum of the run's balances = its @world deposits - "
      "withdrawals (rows) = the driver's 201s");
  struct Totals {
    int64_t balances = 0, transit = 0, world_rows = 0, driver = 0;
  };
  std::map<std::string, Totals> by;
  const auto& setup = in.setup;
  for (size_t c = 0; c < setup.currencies.size(); ++c) {
    by[setup.currencies[c].code].driver = in.facts.world_net_minor[c];
  }
  std::map<std::string, int> exponent;  // account -> the exponent it was opened in
  for (const auto& [id, e] : run_accounts(setup)) {
    exponent[id] = e;
    auto it = ledger.accounts.find(id);
    const auto balance = it == ledger.accounts.end()
                             ? std::nullopt
                             : domain::parse_stored_minor(it->second.second, e);
    if (!balance) {
      result.fail(id + ": not in accounts, or its balance unreadable");
      continue;
    }
    by[it->second.first].balances += *balance;
  }
  for (const auto& [payer, amount] : ledger.in_transit) {
    auto it = ledger.accounts.find(payer);
    const auto minor = it == ledger.accounts.end()
                           ? std::nullopt
                           : domain::parse_stored_minor(amount, exponent[payer]);
    if (minor) by[it->second.first].transit += *minor;
  }
  for (const auto& row : ledger.rows) {
    if (row.kind == "deposit" || row.kind == "withdrawal")
      by[row.currency].world_rows += row.change;
  }
  for (const auto& [code, t] : by) {
    if (t.balances + t.transit == t.world_rows && t.world_rows == t.driver) continue;
    result.fail(code + ": balances " + money_text(setup, code, t.balances) + " + in transit " +
                money_text(setup, code, t.transit) + ", @world in the rows " +
                money_text(setup, code, t.world_rows) + ", the driver's 201s " +
                money_text(setup, code, t.driver));
  }
  return result;
}

void drop_zeros(std::map<std::string, int64_t>& m) {
  for (auto it = m.begin(); it != m.end();) it = it->second == 0 ? m.erase(it) : std::next(it);
}

std::string describe(const std::map<std::string, int64_t>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + " " + std::to_string(v);
  return "{" + out + "}";
}

// Every transaction of the run (answered 201, or named on a row of its accounts): its rows net to
// what its @world postings bring in, per currency, and to its postings' net, per account.
InvariantResult check_zero_sum(const PostingsCheckInput& in, const PostingsLedger& ledger) {
  InvariantResult result(
      "sql: postings: every transaction nets to zero counting @world, and its rows match its "
      "postings in ledger_transactions");
  std::map<std::string, std::vector<const LedgerRow*>> rows_of;
  for (const auto& row : ledger.rows) {
    if (!row.transaction_id.empty()) rows_of[row.transaction_id].push_back(&row);
  }
  std::set<std::string> ids;
  for (const auto& t : in.facts.accepted) ids.insert(t.transaction_id);
  for (const auto& [id, rows] : rows_of) ids.insert(id);
  for (const auto& id : ids) {
    auto record = ledger.records.find(id);
    if (record == ledger.records.end()) {
      result.fail(id + ": no ledger_transactions record");
      continue;
    }
    std::string problems = record->second.problem;
    // In minor units of each currency (per account: of its currency).
    std::map<std::string, int64_t> world, posted, row_currency, row_account;
    for (const auto& p : record->second.postings) {
      if (p.from == "@world") world[p.currency] += p.amount_minor;
      if (p.to == "@world") world[p.currency] -= p.amount_minor;
      if (p.from != "@world") posted[p.from] -= p.amount_minor;
      if (p.to != "@world") posted[p.to] += p.amount_minor;
    }
    for (const auto* row : rows_of[id]) {
      if (!row->parsed) problems += " a row's money unreadable;";
      row_currency[row->currency] += row->change;
      row_account[row->account_id] += row->change;
    }
    for (auto* m : {&world, &posted, &row_currency, &row_account}) drop_zeros(*m);
    if (row_currency != world) {
      problems += " rows net to " + describe(row_currency) + ", its @world postings bring " +
                  describe(world) + ";";
    }
    if (row_account != posted) {
      problems +=
          " rows per account " + describe(row_account) + ", its postings " + describe(posted) + ";";
    }
    if (!problems.empty()) result.fail(id + ":" + problems);
  }
  result.note = std::to_string(ids.size()) + " transactions (minor units)";
  return result;
}

// Each account's stored balance = what the driver's 201s leave there.
InvariantResult check_expected_balances(const PostingsCheckInput& in,
                                        const PostingsLedger& ledger) {
  InvariantResult result("sql: postings: each account's stored balance = the driver's expectation");
  for (size_t a = 0; a < in.setup.accounts.size(); ++a) {
    const auto& account = in.setup.accounts[a];
    auto it = ledger.accounts.find(account.account_id);
    const auto balance = it == ledger.accounts.end()
                             ? std::nullopt
                             : domain::parse_stored_minor(it->second.second, account.exponent);
    if (!balance || *balance != in.facts.expected_minor[a]) {
      result.fail(account.account_id + ": stored " +
                  (it == ledger.accounts.end() ? std::string("nothing") : it->second.second) +
                  ", expected " +
                  domain::format_minor(in.facts.expected_minor[a], account.exponent));
    }
  }
  return result;
}

bool plants_in_sql(const PostingsOptions& o) {
  for (const char* check : {"conservation", "zero-sum", "partial", "reversals", "chain"}) {
    if (o.plants(check)) return true;
  }
  return false;
}

}  // namespace

std::optional<int> exponent_of(const PostingsSetup& setup, const std::string& code) {
  for (const auto& c : setup.currencies) {
    if (c.code == code) return c.exponent;
  }
  return std::nullopt;
}

std::string money_text(const PostingsSetup& setup, const std::string& code, int64_t minor) {
  return domain::format_minor(minor, exponent_of(setup, code).value_or(2));
}

PostingsLedger read_postings_ledger(pqxx::work& txn, const PostingsCheckInput& in) {
  PostingsLedger ledger;
  const std::string ids = in.setup.all_ids();
  for (const auto& r :
       txn.exec_params("SELECT account_id::text, currency, balance::text FROM accounts"
                       " WHERE account_id = ANY($1::uuid[])",
                       ids)) {
    ledger.accounts[text(r[0])] = {text(r[1]), text(r[2])};
  }
  for (const auto& r : txn.exec_params(
           "SELECT account_id::text, currency, kind, balance_change::text,"
           " coalesce(transaction_id::text, ''), coalesce(posting, -1) FROM transactions"
           " WHERE account_id = ANY($1::uuid[]) ORDER BY seq",
           ids)) {
    LedgerRow row{text(r[0]), text(r[1]), text(r[2]), text(r[4]), r[5].as<int>()};
    const auto e = exponent_of(in.setup, row.currency);
    const auto change = e ? domain::parse_stored_minor(text(r[3]), *e) : std::nullopt;
    row.parsed = change.has_value();
    row.change = change.value_or(0);
    ledger.rows.push_back(std::move(row));
  }
  // The run's records: its metadata (a reversal carries its original's), its 201s, and whatever
  // reverses one of them.
  const std::string run = nlohmann::json{{"stress_run", in.plan.run_id}}.dump();
  const std::string accepted = accepted_ids(in.facts);
  const char* columns =
      "SELECT transaction_id::text, postings::text, metadata::text, coalesce(reference, ''),"
      " coalesce(reverses::text, '') FROM ledger_transactions WHERE ";
  for (const auto& r : txn.exec_params(std::string(columns) + "metadata @> $1::jsonb UNION " +
                                           columns + "transaction_id = ANY($2::uuid[]) UNION " +
                                           columns + "reverses = ANY($2::uuid[])",
                                       run, accepted)) {
    auto record = read_record(r, in.setup);
    ledger.records[record.transaction_id] = std::move(record);
  }
  for (const auto& r :
       txn.exec_params("SELECT transaction_id::text, reversible::text, reversed::text FROM"
                       " transaction_reversals WHERE transaction_id = ANY($1::uuid[])",
                       accepted)) {
    ledger.reversals[text(r[0])] = {text(r[1]), text(r[2])};
  }
  if (!txn.exec("SELECT to_regclass('transfers_in_transit')")[0][0].is_null()) {
    for (const auto& r :
         txn.exec_params("SELECT from_user_id::text, amount::text FROM transfers_in_transit"
                         " WHERE from_user_id = ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                         ids)) {
      ledger.in_transit.emplace_back(text(r[0]), text(r[1]));
    }
  }
  return ledger;
}

std::vector<InvariantResult> verify_postings_in_database(const PostingsCheckInput& in) {
  std::vector<InvariantResult> results;
  try {
    pqxx::connection conn(in.config.database_url);
    const std::string ids = in.setup.all_ids();
    std::string at_rest;
    if (has_in_transit_table(conn)) {
      if (const long left = wait_for_in_transit(conn, ids, in.config.settle_wait_seconds)) {
        at_rest = std::to_string(left) + " transfers of the run still in transit";
      }
    }
    pqxx::work txn(conn);  // one snapshot for every check
    txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    if (plants_in_sql(in.config.postings)) {
      InvariantResult planted("sql: postings: the self-check planted its defects");
      const std::string problem = plant_postings_defects(txn, in);
      if (!problem.empty()) planted.fail(problem);
      results.push_back(std::move(planted));
    }
    const auto ledger = read_postings_ledger(txn, in);
    results.push_back(check_conservation(in, ledger));
    results.back().note = at_rest;
    results.push_back(check_zero_sum(in, ledger));
    results.push_back(check_no_partial_transaction(in, ledger));
    results.push_back(check_reversal_bounds(in, ledger));
    for (const auto& check : account_ledger_checks()) {
      InvariantResult result(check.name);
      for (const auto& row : txn.exec_params(check.sql, ids)) {
        std::string line;
        for (const auto& field : row) line += (line.empty() ? "" : " ") + text(field);
        result.fail(line);
      }
      results.push_back(std::move(result));
    }
    results.push_back(check_expected_balances(in, ledger));
    txn.commit();
  } catch (const std::exception& e) {
    InvariantResult failed("sql: postings: the checks could run");
    failed.fail(e.what());
    results.push_back(std::move(failed));
  }
  return results;
}

}  // namespace wallet::stress
