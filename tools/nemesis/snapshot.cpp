// Reading, saving and loading the final database (tools/nemesis/snapshot.hpp).
#include "tools/nemesis/snapshot.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>

#include "domain/money.hpp"

namespace wallet::nemesis {

int64_t minor_units(const std::string& text) {
  auto minor = domain::parse_minor_units(text);
  if (!minor) throw std::runtime_error("not an amount: '" + text + "'");
  return *minor;
}

std::string effect_key(const LedgerRow& row) {
  if (!row.transaction_id.empty()) return "tx:" + row.transaction_id;
  if (!row.transfer_id.empty()) return "tr:" + row.transfer_id;
  return "row:" + row.id;
}

Snapshot read_snapshot_from_db(const std::string& database_url) {
  pqxx::connection connection(database_url);
  // One repeatable-read transaction: balances, rows and in-transit money of the same instant.
  pqxx::transaction<pqxx::isolation_level::repeatable_read> tx(connection);
  Snapshot snapshot;
  for (const auto& r :
       tx.exec("SELECT account_id::text, currency, balance::text FROM accounts ORDER BY 1")) {
    snapshot.accounts.push_back({r[0].c_str(), r[1].c_str(), minor_units(r[2].c_str())});
  }
  for (const auto& r : tx.exec(
           "SELECT id::text, seq, account_id::text, kind, balance_change::text, old_balance::text,"
           " new_balance::text, coalesce(transfer_id::text, ''), coalesce(transaction_id::text, "
           "''),"
           " currency, xmin::text FROM transactions ORDER BY seq")) {
    LedgerRow row;
    row.id = r[0].c_str();
    row.seq = r[1].as<int64_t>();
    row.account = r[2].c_str();
    row.kind = r[3].c_str();
    row.change = minor_units(r[4].c_str());
    row.old_balance = minor_units(r[5].c_str());
    row.new_balance = minor_units(r[6].c_str());
    row.transfer_id = r[7].c_str();
    row.transaction_id = r[8].c_str();
    row.currency = r[9].c_str();
    row.commit = r[10].c_str();
    snapshot.rows.push_back(std::move(row));
  }
  for (const auto& r :
       tx.exec("SELECT a.currency, sum(t.amount)::text FROM transfers_in_transit t"
               " JOIN accounts a ON a.account_id = t.from_user_id GROUP BY a.currency")) {
    snapshot.in_transit[r[0].c_str()] = minor_units(r[1].c_str());
  }
  tx.commit();
  return snapshot;
}

void save_snapshot(const std::string& path, const Snapshot& snapshot) {
  nlohmann::json j = {{"accounts", nlohmann::json::array()},
                      {"rows", nlohmann::json::array()},
                      {"in_transit", snapshot.in_transit}};
  for (const auto& a : snapshot.accounts) {
    j["accounts"].push_back({{"id", a.id}, {"currency", a.currency}, {"balance", a.balance}});
  }
  for (const auto& r : snapshot.rows) {
    j["rows"].push_back({{"id", r.id},
                         {"seq", r.seq},
                         {"account", r.account},
                         {"kind", r.kind},
                         {"change", r.change},
                         {"old", r.old_balance},
                         {"new", r.new_balance},
                         {"transfer_id", r.transfer_id},
                         {"transaction_id", r.transaction_id},
                         {"currency", r.currency},
                         {"commit", r.commit}});
  }
  std::ofstream out(path);
  out << j.dump(1) << "\n";
  if (!out) throw std::runtime_error("cannot write snapshot " + path);
}

Snapshot load_snapshot(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read snapshot " + path);
  const nlohmann::json j = nlohmann::json::parse(in);
  Snapshot snapshot;
  for (const auto& a : j.at("accounts")) {
    snapshot.accounts.push_back({a.at("id"), a.at("currency"), a.at("balance").get<int64_t>()});
  }
  for (const auto& r : j.at("rows")) {
    snapshot.rows.push_back({r.at("id"), r.at("seq").get<int64_t>(), r.at("account"), r.at("kind"),
                             r.at("change").get<int64_t>(), r.at("old").get<int64_t>(),
                             r.at("new").get<int64_t>(), r.at("transfer_id"),
                             r.at("transaction_id"), r.at("currency"), r.at("commit")});
  }
  snapshot.in_transit = j.at("in_transit").get<std::map<std::string, int64_t>>();
  return snapshot;
}

}  // namespace wallet::nemesis
