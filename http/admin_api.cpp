// The admin API (bearer admin token): the live account actors, the totals per currency, the
// bridges and the ledger writer, the partition map and the transfers in transit.
#include <charconv>
#include <map>

#include "domain/money.hpp"
#include "http/common.hpp"
#include "http/transaction_routes.hpp"

namespace wallet::http {
namespace {

// Answers 401 (and false) unless the request carries the admin bearer token.
using AdminCheck = std::function<bool(const HttpRequest&, const ResponderPtr&)>;

nlohmann::json snapshot_json(const actors::AccountSnapshot& s) {
  return {{"user_id", s.user_id},
          {"state", s.state},
          {"currency", s.currency.empty() ? nlohmann::json() : nlohmann::json(s.currency)},
          {"balance", domain::format_minor(s.balance, s.exponent)},
          {"pending_balance", domain::format_minor(s.pending_balance, s.exponent)},
          {"mailbox_size", s.mailbox_size},
          {"stashed", s.stashed},
          {"messages_handled", s.messages_handled},
          {"in_flight", s.in_flight},
          {"last_activity_ms", s.last_activity_ms},
          {"holds_pending", s.holds_pending},
          {"held", domain::format_minor(s.held, s.exponent)}};
}

nlohmann::json actors_json(const std::vector<actors::AccountSnapshot>& snapshots) {
  nlohmann::json list = nlohmann::json::array();
  size_t mailbox = 0;
  size_t holds_pending = 0;
  // Money of two currencies is never added together: totals per currency, and
  // the hold figures for the default currency.
  std::map<std::string, std::pair<int64_t, int64_t>> by_currency;  // balance, held
  std::map<std::string, int> exponents;
  const auto& fallback = domain::configured_currencies().default_currency();
  for (const auto& s : snapshots) {
    list.push_back(snapshot_json(s));
    mailbox += s.mailbox_size;
    holds_pending += s.holds_pending;
    if (s.currency.empty()) continue;  // not loaded: no money known
    by_currency[s.currency].first += s.balance;
    by_currency[s.currency].second += s.held;
    exponents[s.currency] = s.exponent;
  }
  nlohmann::json currencies = nlohmann::json::object();
  for (const auto& [code, sums] : by_currency) {
    currencies[code] = {{"balance_held", domain::format_minor(sums.first, exponents[code])},
                        {"holds_held", domain::format_minor(sums.second, exponents[code])}};
  }
  const auto defaults = by_currency[fallback.code];
  nlohmann::json body{{"actors", list},
                      {"totals",
                       {{"live", snapshots.size()},
                        {"mailbox_size", mailbox},
                        {"balance_held", domain::format_minor(defaults.first, fallback.exponent)},
                        {"holds_pending", holds_pending},
                        {"holds_held", domain::format_minor(defaults.second, fallback.exponent)},
                        {"by_currency", std::move(currencies)}}}};
  return body;
}

void add_actors_route(Router& router, actors::Ledger& ledger, const AdminCheck& authorized) {
  router.add("GET", "/admin/actors",
             [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               actors::InspectQuery query;
               query.reply = [responder](std::vector<actors::AccountSnapshot> snapshots) {
                 responder->send(200, actors_json(snapshots).dump());
               };
               ledger.inspect(std::move(query));
             });
}

// Per currency: the accounts, the money in transit, and @world (minus deposits - withdrawals);
// ?verify=true sums @world from the ledger's rows too (a scan) and says whether both agree.
void add_totals_route(Router& router, actors::Ledger& ledger, const AdminCheck& authorized) {
  router.add("GET", "/admin/totals",
             [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               const bool verify = request.query_value("verify").value_or("") == "true";
               using Totals = std::vector<actors::CurrencyTotals>;
               ledger.totals(verify, [responder](domain::Result<Totals> totals) {
                 if (!totals) return responder->send_error(totals.error());
                 nlohmann::json currencies = nlohmann::json::object();
                 for (const auto& t : *totals) {
                   auto money = [&t](int64_t minor) {
                     return domain::format_minor(minor, t.exponent);
                   };
                   nlohmann::json item{{"accounts", money(t.accounts)},
                                       {"in_transit", money(t.in_transit)},
                                       {"world", money(t.world)}};
                   if (t.world_from_rows) {
                     item["world_from_rows"] = money(*t.world_from_rows);
                     item["rows_agree"] = *t.world_from_rows == t.world;
                   }
                   currencies[t.currency] = std::move(item);
                 }
                 responder->send(200, nlohmann::json{{"currencies", std::move(currencies)}}.dump());
               });
             });
}

void add_actor_route(Router& router, actors::Ledger& ledger, const AdminCheck& authorized) {
  router.add("GET", "/admin/actors/{user_id}",
             [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               auto user_id = path_user_id(request, responder);
               if (!user_id) return;
               actors::InspectQuery query;
               query.user_id = *user_id;
               query.reply = [responder,
                              id = *user_id](std::vector<actors::AccountSnapshot> found) {
                 if (found.empty()) {
                   return responder->send_error(
                       {domain::ErrorCode::not_found, "no live actor for user " + id});
                 }
                 responder->send(200, snapshot_json(found.front()).dump());
               };
               ledger.inspect(std::move(query));
             });
}

void add_bridges_route(Router& router, actors::Ledger& ledger,
                       std::function<nlohmann::json()> bridges, const AdminCheck& authorized) {
  router.add(
      "GET", "/admin/bridges",
      [&ledger, bridges, authorized](const HttpRequest& request, ResponderPtr responder) {
        if (!authorized(request, responder)) return;
        nlohmann::json body = bridges ? bridges() : nlohmann::json::object();
        ledger.inspect_writer([responder, body](actors::WriterStats stats, size_t mailbox) mutable {
          body["ledger_writer"] = {{"batches", stats.batches},
                                   {"mutations", stats.mutations},
                                   {"failed_mutations", stats.failed_mutations},
                                   {"largest_batch", stats.largest_batch},
                                   {"commit_micros_total", stats.commit_micros_total},
                                   {"lanes", stats.lanes},
                                   {"lanes_busy", stats.lanes_busy},
                                   {"most_lanes_busy", stats.most_lanes_busy},
                                   {"fenced_batches", stats.fenced},
                                   {"keys_taken", stats.keys_taken},
                                   {"mailbox_size", mailbox}};
          responder->send(200, body.dump());
        });
      });
}

nlohmann::json partitions_json(const std::vector<actors::PartitionOwner>& rows,
                               const std::shared_ptr<const actors::OwnedPartitions>& owned) {
  std::map<int, int64_t> mine;
  if (owned) {
    for (const auto& [partition, epoch] : owned->held()) mine[partition] = epoch;
  }
  const std::string me = owned ? owned->instance_id() : "";
  nlohmann::json list = nlohmann::json::array();
  for (const auto& row : rows) {
    auto held = mine.find(row.partition);
    list.push_back(
        {{"partition", row.partition},
         {"owner", row.owner.empty() ? nlohmann::json() : nlohmann::json(row.owner)},
         {"epoch", row.epoch},
         {"taken_at", row.taken_at.empty() ? nlohmann::json() : nlohmann::json(row.taken_at)},
         {"held_here", held != mine.end() && row.owner == me && held->second == row.epoch}});
  }
  nlohmann::json body{
      {"instance_id", me}, {"partition_count", list.size()}, {"partitions", std::move(list)}};
  return body;
}

// Beyond one machine (SPEC.md section 7): the partition map as Postgres holds it, and which
// entries are this instance's (same owner and the epoch it took: its commits pass the fence).
void add_partitions_route(Router& router, actors::Ledger& ledger,
                          std::shared_ptr<const actors::OwnedPartitions> owned,
                          const AdminCheck& authorized) {
  router.add("GET", "/admin/partitions",
             [&ledger, owned, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               ledger.partitions(
                   [responder, owned](domain::Result<std::vector<actors::PartitionOwner>> rows) {
                     if (!rows) return responder->send_error(rows.error());
                     responder->send(200, partitions_json(rows.value(), owned).dump());
                   });
             });
}

nlohmann::json in_transit_json(const actors::InTransitSummary& found) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& leg : found.oldest) {
    list.push_back({{"transfer_id", leg.transfer_id},
                    {"from_user_id", leg.from_user_id},
                    {"to_user_id", leg.to_user_id},
                    {"amount", domain::format_minor(leg.amount, leg.exponent)},
                    {"to_partition", leg.to_partition},
                    {"since", leg.created_at}});
  }
  nlohmann::json by_currency = nlohmann::json::object();
  for (const auto& currency : found.by_currency) {
    by_currency[currency.code] = domain::format_minor(currency.total, currency.exponent);
  }
  nlohmann::json body{
      {"count", found.count},
      {"by_currency", std::move(by_currency)},
      {"amount", domain::format_minor(found.total,
                                      domain::configured_currencies().default_currency().exponent)},
      {"transfers", std::move(list)}};
  return body;
}

// Transfers between owners whose credit is not committed yet (SPEC.md section 7), ledger-wide.
void add_in_transit_route(Router& router, actors::Ledger& ledger, const AdminCheck& authorized) {
  router.add(
      "GET", "/admin/in-transit",
      [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
        if (!authorized(request, responder)) return;
        int limit = 100;
        if (auto text = request.query_value("limit")) {
          int value = 0;
          auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
          if (error != std::errc() || end != text->data() + text->size() || value < 1 ||
              value > kMaxHistoryLimit) {
            return responder->send_error(
                {domain::ErrorCode::invalid_limit, "limit must be an integer from 1 to 1000"});
          }
          limit = value;
        }
        ledger.in_transit(limit, [responder](domain::Result<actors::InTransitSummary> found) {
          if (!found) return responder->send_error(found.error());
          responder->send(200, in_transit_json(*found).dump());
        });
      });
}

}  // namespace

void add_admin_routes(Router& router, const TransactionApiDeps& deps) {
  auto& ledger = deps.ledger;
  auto token = deps.admin_token;
  auto authorized = [token](const HttpRequest& request, const ResponderPtr& responder) {
    if (bearer_matches(request, token)) return true;
    responder->send_error(
        {domain::ErrorCode::unauthorized, "a valid admin bearer token is required"},
        {{"WWW-Authenticate", "Bearer"}});
    return false;
  };
  add_actors_route(router, ledger, authorized);
  add_totals_route(router, ledger, authorized);
  add_actor_route(router, ledger, authorized);
  add_bridges_route(router, ledger, deps.bridges, authorized);
  add_partitions_route(router, ledger, deps.owned, authorized);
  add_in_transit_route(router, ledger, authorized);
}

}  // namespace wallet::http
