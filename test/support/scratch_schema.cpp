#include "test/support/scratch_schema.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "domain/ids.hpp"
#include "persistence/migrations.hpp"

namespace wallet::test {

ScratchSchema::ScratchSchema(const std::string& database_url, const std::string& service,
                             bool migrate_now)
    : database_url_(database_url), service_(service) {
  name_ = "it_";
  for (char c : domain::new_uuid_v4()) {
    if (c != '-') name_ += c;
  }
  url_ = database_url + (database_url.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3D" + name_;
  pqxx::connection conn(database_url_);
  pqxx::nontransaction txn(conn);
  txn.exec("CREATE SCHEMA " + name_);
  if (migrate_now) migrate();
}

ScratchSchema::~ScratchSchema() {
  try {
    pqxx::connection conn(database_url_);
    pqxx::nontransaction txn(conn);
    txn.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  } catch (const std::exception&) {
    // Best effort: a leftover it_* schema is harmless.
  }
}

void ScratchSchema::migrate() {
  auto applied =
      persistence::apply_migrations(url_, std::string(WALLET_SOURCE_DIR) + "/schema/" + service_);
  if (!applied) throw std::runtime_error("migrations failed: " + applied.error().message);
}

}  // namespace wallet::test
