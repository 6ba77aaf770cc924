// The ledger's queries (SPEC.md section 8, "Metadata, queries, balances in the past"):
// GET /transactions by account, reference, metadata and time; GET /accounts/{id}/transactions,
// one account's rows paged as /users/{id}/transactions pages them; GET /accounts/{id}/balance, now
// or at an instant. Handlers check every parameter (a 400 names it), then the Ledger reads
// committed state on its pool (persistence/transaction_queries.hpp). Nothing here moves money.
#include "http/query_api.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "domain/requests.hpp"
#include "domain/transaction_requests.hpp"
#include "domain/user_created_event.hpp"
#include "http/history_cursor.hpp"
#include "http/jwt.hpp"
#include "http/query_params_internal.hpp"
#include "http/transactions_api.hpp"

namespace wallet::http {
namespace {

using namespace query_params;
using Code = domain::ErrorCode;

std::optional<std::string> path_account_id(const HttpRequest& request,
                                           const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("account_id"));
  if (!id) responder->send_error({Code::invalid_account_id, "account_id must be a UUID"});
  return id;
}

domain::Error no_account(const std::string& id) {
  return {Code::account_not_found, "no account " + id};
}

// A page's next_cursor: null on the last page (no cursor).
nlohmann::json cursor_json(const std::string& cursor) {
  return cursor.empty() ? nlohmann::json() : nlohmann::json(cursor);
}

nlohmann::json rows_json(const std::string& account_id, const actors::AccountRowsPage& page) {
  const auto money = [&page](int64_t minor) { return domain::format_minor(minor, page.exponent); };
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : page.rows) {
    rows.push_back({{"id", row.id},
                    {"user_id", page.user_id},
                    {"account_id", account_id},
                    {"currency", page.currency},
                    {"transaction_id", row.transaction_id},
                    {"kind", row.kind},
                    {"balance_change", money(row.change)},
                    {"old_balance", money(row.old_balance)},
                    {"new_balance", money(row.new_balance)},
                    {"transfer_id",
                     row.transfer_id.empty() ? nlohmann::json() : nlohmann::json(row.transfer_id)},
                    {"created_at", row.created_at}});
  }
  return {{"account_id", account_id},
          {"currency", page.currency},
          {"transactions", std::move(rows)},
          {"next_cursor",
           cursor_json(page.next_before > 0 ? encode_history_cursor(page.next_before) : "")}};
}

void add_search_route(Router& router, actors::Ledger& ledger) {
  router.add("GET", "/transactions", [&ledger](const HttpRequest& request, ResponderPtr responder) {
    auto query = decode_transaction_query(request);
    if (!query) return responder->send_error(query.error());
    ledger.find_transactions(
        std::move(query.value()), [responder](domain::Result<actors::TransactionPage> page) {
          if (!page) return responder->send_error(page.error());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& view : page->transactions) list.push_back(view_json(view));
          const auto next = page->next ? encode_cursor(*page->next) : std::string();
          responder->send(200, nlohmann::json{{"transactions", std::move(list)},
                                              {"next_cursor", cursor_json(next)}}
                                   .dump());
        });
  });
}

void add_account_rows_route(Router& router, actors::Ledger& ledger) {
  router.add(
      "GET", "/accounts/{account_id}/transactions",
      [&ledger](const HttpRequest& request, ResponderPtr responder) {
        auto id = path_account_id(request, responder);
        if (!id) return;
        actors::AccountRowsQuery query;
        query.account_id = *id;
        auto range = decode_range(request);
        if (!range) return responder->send_error(range.error());
        query.range = range.value();
        auto limit = decode_limit(request);
        if (!limit) return responder->send_error(limit.error());
        query.limit = limit.value();
        if (auto cursor = request.query_value("before")) {
          auto seq = decode_history_cursor(*cursor);
          if (!seq) {
            return responder->send_error(
                {Code::invalid_cursor, "before must be a next_cursor returned by this endpoint"});
          }
          query.before = *seq;
        }
        using Page = std::optional<actors::AccountRowsPage>;
        ledger.account_rows(std::move(query), [responder, id = *id](domain::Result<Page> page) {
          if (!page) return responder->send_error(page.error());
          if (!page.value()) return responder->send_error(no_account(id));
          responder->send(200, rows_json(id, *page.value()).dump());
        });
      });
}

void add_balance_route(Router& router, actors::Ledger& ledger) {
  router.add("GET", "/accounts/{account_id}/balance",
             [&ledger](const HttpRequest& request, ResponderPtr responder) {
               auto id = path_account_id(request, responder);
               if (!id) return;
               std::optional<int64_t> at;
               if (auto text = request.query_value("at")) {
                 // At or before the instant: finer digits round down.
                 at = parse_instant(*text, false);
                 if (!at) return responder->send_error({Code::invalid_time, "at" + kInstantRule});
               }
               using Found = std::optional<actors::BalanceAt>;
               ledger.balance_at(*id, at, [responder, id = *id](domain::Result<Found> found) {
                 if (!found) return responder->send_error(found.error());
                 if (!found.value()) return responder->send_error(no_account(id));
                 const auto& balance = *found.value();
                 responder->send(
                     200, nlohmann::json{{"account_id", id},
                                         {"currency", balance.currency},
                                         {"balance",
                                          domain::format_minor(balance.balance, balance.exponent)},
                                         {"at", balance.at}}
                              .dump());
               });
             });
}

}  // namespace

void add_query_routes(Router& router, const TransactionApiDeps& deps) {
  add_search_route(router, deps.ledger);
  add_account_rows_route(router, deps.ledger);
  add_balance_route(router, deps.ledger);
}

}  // namespace wallet::http
