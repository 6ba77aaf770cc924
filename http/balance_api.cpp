// The balance and the history of a user: GET /users/{user_id}/balance and
// GET /users/{user_id}/transactions.
#include <charconv>

#include "domain/money.hpp"
#include "http/history_cursor.hpp"
#include "http/transaction_routes.hpp"

namespace wallet::http {
namespace {

constexpr int kDefaultHistoryLimit = 50;

nlohmann::json history_json(const std::string& user_id, const actors::HistoryPage& page) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : page.rows) {
    rows.push_back({{"id", row.id},
                    {"user_id", user_id},
                    {"kind", row.kind},
                    {"balance_change", domain::format_minor(row.change, page.exponent)},
                    {"old_balance", domain::format_minor(row.old_balance, page.exponent)},
                    {"new_balance", domain::format_minor(row.new_balance, page.exponent)},
                    {"transfer_id",
                     row.transfer_id.empty() ? nlohmann::json() : nlohmann::json(row.transfer_id)},
                    {"created_at", row.created_at}});
  }
  return {{"transactions", std::move(rows)},
          {"next_cursor", page.next_before ? nlohmann::json(encode_history_cursor(page.next_before))
                                           : nlohmann::json()}};
}

}  // namespace

void add_balance_routes(Router& router, actors::Ledger& ledger) {
  router.add(
      "GET", "/users/{user_id}/balance",
      [&ledger](const HttpRequest& request, ResponderPtr responder) {
        auto user_id = path_user_id(request, responder);
        if (!user_id) return;
        actors::AvailableQuery query;
        query.user_id = *user_id;
        query.reply = [responder, id = *user_id](domain::Result<actors::BalanceFigures> figures) {
          if (!figures) return responder->send_error(figures.error());
          responder->send(
              200,
              nlohmann::json{{"user_id", id},
                             {"balance", domain::format_minor(figures->balance, figures->exponent)},
                             {"available_balance",
                              domain::format_minor(figures->available, figures->exponent)}}
                  .dump());
        };
        ledger.balance_figures(std::move(query));
      });

  router.add("GET", "/users/{user_id}/transactions",
             [&ledger](const HttpRequest& request, ResponderPtr responder) {
               auto user_id = path_user_id(request, responder);
               if (!user_id) return;
               int limit = kDefaultHistoryLimit;
               if (auto text = request.query_value("limit")) {
                 auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
                 if (ec != std::errc() || end != text->data() + text->size() || limit < 1 ||
                     limit > kMaxHistoryLimit) {
                   return responder->send_error({domain::ErrorCode::invalid_limit,
                                                 "limit must be an integer from 1 to 1000"});
                 }
               }
               int64_t before = 0;
               if (auto cursor = request.query_value("before")) {
                 auto seq = decode_history_cursor(*cursor);
                 if (!seq) {
                   return responder->send_error(
                       {domain::ErrorCode::invalid_cursor,
                        "before must be a next_cursor returned by this endpoint"});
                 }
                 before = *seq;
               }
               using Page = std::optional<actors::HistoryPage>;
               ledger.history(
                   *user_id, limit, before, [responder, id = *user_id](domain::Result<Page> page) {
                     if (!page) return responder->send_error(page.error());
                     if (!page.value()) {
                       return responder->send_error(
                           {domain::ErrorCode::user_not_found, "no account for user " + id});
                     }
                     responder->send(200, history_json(id, *page.value()).dump());
                   });
             });
}

}  // namespace wallet::http
