// ScratchSchema: a throwaway Postgres schema holding one service's tables, for integration tests
// that run bridges of their own next to the running services without touching their tables. The
// URL it hands out sets search_path to the schema, so unqualified table names land there.
#pragma once

#include <string>

namespace wallet::test {

class ScratchSchema {
 public:
  // Creates the schema; applies schema/<service> migrations unless `migrate` is false.
  ScratchSchema(const std::string& database_url, const std::string& service, bool migrate = true);
  ~ScratchSchema();  // DROP SCHEMA ... CASCADE
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;

  void migrate();
  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }

 private:
  std::string database_url_;
  std::string service_;
  std::string name_;
  std::string url_;
};

}  // namespace wallet::test
