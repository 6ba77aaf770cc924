// ScratchDatabase: a throwaway Postgres database on the server of a given URL, for tests that need
// a whole database of their own (the schema upgrade test compares two databases' catalogs, which
// scratch schemas of one database would not keep apart). The wallet role has CREATEDB.
#pragma once

#include <string>

namespace wallet::test {

class ScratchDatabase {
 public:
  // Creates wallet_it_<random> on the server `server_url` points at (any database of it).
  explicit ScratchDatabase(const std::string& server_url);
  ~ScratchDatabase();  // DROP DATABASE ... WITH (FORCE)
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }  // server_url with its database replaced

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace wallet::test
