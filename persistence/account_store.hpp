// Accounts as clients see them (SPEC.md section 8): opening one with POST /accounts, and the reads
// of GET /accounts/{id} and GET /users/{id}/accounts. Their balances move only through the ledger's
// actors (ledger_store.hpp); these read committed state. Each call throws libpqxx exceptions
// (DbPool classifies them); run them on a DbPool thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "persistence/ledger_records.hpp"

namespace wallet::persistence {

// Opens `wanted` for its user, with the idempotency outcome `render(account)` in the same
// transaction when wanted.outcome is set (its status, endpoint, key and hash; the body is
// rendered from the row as inserted). A key already stored (within `ttl`) returns that outcome
// and opens nothing.
AccountOpened create_account(pqxx::connection& conn, const NewAccount& wanted,
                             std::chrono::seconds ttl,
                             const std::function<std::string(const AccountView&)>& render);

std::optional<AccountView> account_view(pqxx::connection& conn, const std::string& account_id);
// Every account among `ids` that exists (any order).
std::vector<AccountView> account_views(pqxx::connection& conn, const std::vector<std::string>& ids);
// Every account of a user, oldest first (the default account first); nullopt when the user has
// no default account (no such user here).
std::optional<std::vector<AccountView>> user_accounts(pqxx::connection& conn,
                                                      const std::string& user_id);

}  // namespace wallet::persistence
