#include "test/support/scratch_database.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "domain/ids.hpp"

namespace wallet::test {
namespace {

// postgresql://user:pass@host:port/dbname?params -> the same with `database` as dbname.
std::string with_database(const std::string& url, const std::string& database) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("not a URL: " + url);
  const auto path = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  const std::string authority = url.substr(0, std::min(path, query));
  return authority + "/" + database + (query == std::string::npos ? "" : url.substr(query));
}

}  // namespace

ScratchDatabase::ScratchDatabase(const std::string& server_url) : server_url_(server_url) {
  name_ = "wallet_it_";
  for (char c : domain::new_uuid_v4()) {
    if (c != '-') name_ += c;
  }
  url_ = with_database(server_url, name_);
  pqxx::connection conn(server_url_);
  pqxx::nontransaction txn(conn);
  txn.exec("CREATE DATABASE " + name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    pqxx::connection conn(server_url_);
    pqxx::nontransaction txn(conn);
    txn.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: a leftover wallet_it_* database is harmless (and named as such).
  }
}

}  // namespace wallet::test
