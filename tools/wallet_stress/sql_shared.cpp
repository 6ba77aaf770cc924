// The pieces the SQL verifiers share (declared in sql_shared.hpp): where a real table lives,
// whether a private temporary copy shadows it, and the wait for money in transit.
#include "tools/wallet_stress/sql_shared.hpp"

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

namespace wallet::stress {

// A real table's schema-qualified name (it may live in any schema of the search path); read before
// a temporary copy shadows it.
std::string qualified_table(pqxx::work& txn, const char* table) {
  return txn
      .exec_params1(
          "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
          " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
          table)[0]
      .as<std::string>();
}

bool has_temp_copy(pqxx::work& txn, const char* table) {
  return !txn.exec_params1("SELECT to_regclass('pg_temp.' || $1)", table)[0].is_null();
}

bool has_in_transit_table(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return !txn.exec("SELECT to_regclass('transfers_in_transit')")[0][0].is_null();
}

// Waits (up to `seconds`) until no transfer of the run is in transit; returns how many still are.
long wait_for_in_transit(pqxx::connection& conn, const std::string& ids, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (;;) {
    pqxx::nontransaction txn(conn);
    const long left = txn.exec_params(
                             "SELECT count(*) FROM transfers_in_transit WHERE from_user_id = "
                             "ANY($1::uuid[]) OR to_user_id = ANY($1::uuid[])",
                             ids)[0][0]
                          .as<long>();
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace wallet::stress
