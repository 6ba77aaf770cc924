#include "http/transaction_api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <map>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/requests.hpp"
#include "domain/time_text.hpp"
#include "http/account_api.hpp"
#include "http/common.hpp"
#include "http/history_cursor.hpp"
#include "http/jwt.hpp"
#include "http/transaction_holds_api.hpp"
#include "http/transactions_api.hpp"

namespace wallet::http {
namespace {

constexpr int kDefaultHistoryLimit = 50;
constexpr int kMaxHistoryLimit = 1000;

std::optional<std::string> path_user_id(const HttpRequest& request, const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("user_id"));
  if (!id) responder->send_error({domain::ErrorCode::invalid_user_id, "user_id must be a UUID"});
  return id;
}

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

// The money routes' two forms (SPEC.md section 8): the user form starts at once; the account form
// first finds the accounts it names (404 account_not_found, 400 currency_mismatch) and turns its
// amount into minor units of their currency (400 invalid_amount).
template <class Request>
void start_in_either_form(
    actors::Ledger& ledger, Request request, std::vector<std::string> accounts,
    ResponderPtr responder,
    std::function<void(Request, const std::vector<actors::AccountView>&, ResponderPtr)> start) {
  if (!request.account_form) return start(std::move(request), {}, std::move(responder));
  with_accounts(ledger, std::move(accounts), std::move(responder),
                [request = std::move(request), start = std::move(start)](
                    std::vector<actors::AccountView> found, ResponderPtr responder) mutable {
                  auto minor =
                      minor_or_answer(request.written, found.front().exponent, false, responder);
                  if (!minor) return;
                  request.amount = *minor;
                  start(std::move(request), found, std::move(responder));
                });
}

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

nlohmann::json hold_fields_json(const actors::HoldRecord& hold);

nlohmann::json hold_json(const actors::HoldRecord& hold) {
  // A hold between accounts that are not both default accounts of the default currency shows
  // its accounts and currency (SPEC.md section 8), with their users in the user fields.
  const bool accounts = (!hold.from_owner.empty() && hold.from_owner != hold.from_user_id) ||
                        (!hold.to_owner.empty() && hold.to_owner != hold.to_user_id) ||
                        (!hold.currency.empty() &&
                         hold.currency != domain::configured_currencies().default_currency().code);
  auto body = hold_fields_json(hold);
  if (accounts) {
    body["from_account_id"] = hold.from_user_id;
    body["to_account_id"] = hold.to_user_id;
    body["from_user_id"] = hold.from_owner;
    body["to_user_id"] = hold.to_owner;
    body["currency"] = hold.currency;
  }
  return body;
}

nlohmann::json hold_fields_json(const actors::HoldRecord& hold) {
  return {{"hold_id", hold.hold_id},
          {"from_user_id", hold.from_user_id},
          {"to_user_id", hold.to_user_id},
          {"amount", domain::format_minor(hold.amount, hold.exponent)},
          {"status", hold.status},
          {"expires_at", domain::format_epoch_ms(hold.expires_at_ms)},
          {"transfer_id",
           hold.transfer_id.empty() ? nlohmann::json() : nlohmann::json(hold.transfer_id)},
          {"captured_amount", hold.status == "captured" ? nlohmann::json(domain::format_minor(
                                                              hold.captured_amount, hold.exponent))
                                                        : nlohmann::json()},
          {"created_at", hold.created_at}};
}

std::optional<std::string> path_hold_id(const HttpRequest& request, const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("hold_id"));
  if (!id) responder->send_error({domain::ErrorCode::invalid_hold_id, "hold_id must be a UUID"});
  return id;
}

// Beyond one machine: true when the request went to the owner of `user_id`'s partition (or was
// answered): the handler stops there.
bool served_elsewhere(const std::shared_ptr<const OwnerRouting>& routing,
                      const std::string& user_id, const HttpRequest& request,
                      const ResponderPtr& responder) {
  return routing && routing->elsewhere(user_id, request, responder);
}

void add_release2_routes(Router& router, actors::Ledger& ledger,
                         std::shared_ptr<const OwnerRouting> routing) {
  router.add(
      "POST", "/withdrawMoney",
      [&ledger, routing](const HttpRequest& request, ResponderPtr responder) {
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_withdraw(request.body, request.header("idempotency-key"));
        if (!decoded) return responder->send_error(decoded.error());
        if (served_elsewhere(routing, decoded->user_id, request, responder)) return;
        auto id = decoded->user_id;
        start_in_either_form<domain::WithdrawRequest>(
            ledger, std::move(decoded.value()), {id}, std::move(responder),
            [&ledger](domain::WithdrawRequest decoded,
                      const std::vector<actors::AccountView>& found, ResponderPtr responder) {
              actors::WithdrawCommand command;
              command.tag = tag_for("withdrawMoney", decoded.idempotency_key,
                                    domain::canonical_withdraw(decoded));
              if (refused_as_closed(ledger, found, command.tag, responder)) return;
              command.user_id = std::move(decoded.user_id);
              command.amount = decoded.amount;
              command.account_form = decoded.account_form;
              command.reply = answer_with(std::move(responder));
              ledger.withdraw(std::move(command));
            });
      });

  router.add(
      "POST", "/holds", [&ledger, routing](const HttpRequest& request, ResponderPtr responder) {
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_hold(request.body, request.header("idempotency-key"));
        if (!decoded) return responder->send_error(decoded.error());
        if (served_elsewhere(routing, decoded->from_user_id, request, responder)) return;
        std::vector<std::string> ids{decoded->from_user_id, decoded->to_user_id};
        start_in_either_form<domain::HoldRequest>(
            ledger, std::move(decoded.value()), std::move(ids), std::move(responder),
            [&ledger](domain::HoldRequest decoded, const std::vector<actors::AccountView>& found,
                      ResponderPtr responder) {
              actors::HoldCommand command;
              command.tag =
                  tag_for("holds", decoded.idempotency_key, domain::canonical_hold(decoded));
              if (refused_as_closed(ledger, found, command.tag, responder)) return;
              command.from_user_id = std::move(decoded.from_user_id);
              command.to_user_id = std::move(decoded.to_user_id);
              command.amount = decoded.amount;
              command.timeout_seconds = decoded.timeout_seconds;
              command.account_form = decoded.account_form;
              if (!found.empty()) command.to_owner = found.back().user_id;
              command.reply = answer_with(std::move(responder));
              ledger.create_hold(std::move(command));
            });
      });

  // Capture and void keys are scoped per hold: the endpoint of the tag names the hold.
  for (const bool capture : {true, false}) {
    const char* action = capture ? "capture" : "void";
    router.add(
        "POST", std::string("/holds/{hold_id}/") + action,
        [&ledger, capture, action, routing](const HttpRequest& request, ResponderPtr responder) {
          auto hold_id = path_hold_id(request, responder);
          if (!hold_id) return;
          if (!request.body.empty() && !require_json(request, responder)) return;
          auto decoded =
              domain::decode_hold_close(request.body, request.header("idempotency-key"), capture);
          if (!decoded) return responder->send_error(decoded.error());
          // The tag is made once the amount is known in minor units of the hold's currency.
          auto run = [&ledger, capture, action, id = *hold_id, decoded = decoded.value()](
                         ResponderPtr responder, std::optional<int64_t> amount) mutable {
            if (amount) decoded.amount = amount;
            const std::string endpoint = "holds/" + id + "/" + action;
            auto tag = tag_for(endpoint.c_str(), decoded.idempotency_key,
                               domain::canonical_hold_close(action, id, decoded));
            if (capture) {
              ledger.capture_hold(id, decoded.amount, std::move(tag),
                                  answer_with(std::move(responder)));
            } else {
              ledger.void_hold(id, std::move(tag), answer_with(std::move(responder)));
            }
          };
          const auto written = decoded->written;
          if (!routing && !written) return run(std::move(responder), std::nullopt);
          // Beyond one machine: the hold's payer decides who runs it (its owner). A partial
          // capture's amount is written in the hold's currency.
          using Found = std::optional<actors::HoldRecord>;
          ledger.hold(*hold_id, [routing, request, responder, written, id = *hold_id,
                                 run = std::move(run)](domain::Result<Found> found) mutable {
            if (written && !found) return responder->send_error(found.error());
            if (written && !found.value()) {
              return responder->send_error({domain::ErrorCode::hold_not_found, "no hold " + id});
            }
            if (found && found.value() && routing &&
                routing->elsewhere(found.value()->from_user_id, request, responder)) {
              return;
            }
            std::optional<int64_t> amount;
            if (written) {
              amount = minor_or_answer(*written, found.value()->exponent, false, responder);
              if (!amount) return;
            }
            run(std::move(responder), amount);  // not found or unreadable: the ledger answers it
          });
        });
  }

  router.add(
      "GET", "/holds/{hold_id}", [&ledger](const HttpRequest& request, ResponderPtr responder) {
        auto hold_id = path_hold_id(request, responder);
        if (!hold_id) return;
        using Found = std::optional<actors::HoldRecord>;
        ledger.hold(*hold_id, [responder, id = *hold_id](domain::Result<Found> found) {
          if (!found) return responder->send_error(found.error());
          if (!found.value())
            return responder->send_error({domain::ErrorCode::hold_not_found, "no hold " + id});
          responder->send(200, hold_json(*found.value()).dump());
        });
      });
}

void add_money_routes(Router& router, const TransactionApiDeps& deps) {
  auto& ledger = deps.ledger;
  std::shared_ptr<const JwtVerifier> verifier;
  if (!deps.jwt_secret.empty()) {
    verifier = std::make_shared<const JwtVerifier>(deps.jwt_secret);
    if (deps.jwt_secret.size() < 32) {
      spdlog::warn("event=weak_jwt_secret bytes={} hint=\"use at least 32 random bytes\"",
                   deps.jwt_secret.size());
    }
  }
  auto routing = deps.routing;
  router.add(
      "POST", "/addMoney",
      [&ledger, verifier, routing](const HttpRequest& request, ResponderPtr responder) {
        if (verifier) {
          auto claims = authenticate(*verifier, request, responder);
          if (!claims) return;
          if (!has_role(*claims, "operator")) {
            return forbid(responder, "adding money needs a token with the operator role");
          }
        }
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_deposit(request.body, request.header("idempotency-key"));
        if (!decoded) return responder->send_error(decoded.error());
        if (served_elsewhere(routing, decoded->user_id, request, responder)) return;
        auto id = decoded->user_id;
        start_in_either_form<domain::DepositRequest>(
            ledger, std::move(decoded.value()), {id}, std::move(responder),
            [&ledger](domain::DepositRequest decoded, const std::vector<actors::AccountView>& found,
                      ResponderPtr responder) {
              actors::DepositCommand command;
              command.tag =
                  tag_for("addMoney", decoded.idempotency_key, domain::canonical_deposit(decoded));
              if (refused_as_closed(ledger, found, command.tag, responder)) return;
              command.user_id = std::move(decoded.user_id);
              command.amount = decoded.amount;
              command.account_form = decoded.account_form;
              command.reply = answer_with(std::move(responder));
              ledger.deposit(std::move(command));
            });
      });

  router.add(
      "POST", "/transferMoney",
      [&ledger, verifier, routing](const HttpRequest& request, ResponderPtr responder) {
        std::optional<JwtClaims> claims;
        if (verifier && !(claims = authenticate(*verifier, request, responder))) return;
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_transfer(request.body, request.header("idempotency-key"));
        if (!decoded) return responder->send_error(decoded.error());
        if (claims && !decoded->account_form && !subject_is(*claims, decoded->from_user_id)) {
          return forbid(responder, "the token's subject is not the account money is taken from");
        }
        if (served_elsewhere(routing, decoded->from_user_id, request, responder)) return;
        std::vector<std::string> ids{decoded->from_user_id, decoded->to_user_id};
        start_in_either_form<domain::TransferRequest>(
            ledger, std::move(decoded.value()), std::move(ids), std::move(responder),
            [&ledger, claims](domain::TransferRequest decoded,
                              const std::vector<actors::AccountView>& found,
                              ResponderPtr responder) {
              actors::TransferCommand command;
              if (!found.empty()) {
                // The account form: the token's subject must own the account paying.
                if (claims && !subject_is(*claims, found.front().user_id)) {
                  return forbid(responder,
                                "the token's subject does not own the account money is taken from");
                }
                command.currency = found.front().currency;
                command.from_owner = found.front().user_id;
                command.to_owner = found.back().user_id;
              }
              command.tag = tag_for("transferMoney", decoded.idempotency_key,
                                    domain::canonical_transfer(decoded));
              if (refused_as_closed(ledger, found, command.tag, responder)) return;
              command.from_user_id = std::move(decoded.from_user_id);
              command.to_user_id = std::move(decoded.to_user_id);
              command.amount = decoded.amount;
              command.account_form = decoded.account_form;
              command.reply = answer_with(std::move(responder));
              ledger.transfer(std::move(command));
            });
      });

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

  add_release2_routes(router, ledger, deps.routing);
}

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

  router.add("GET", "/admin/actors",
             [&ledger, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               actors::InspectQuery query;
               query.reply = [responder](std::vector<actors::AccountSnapshot> snapshots) {
                 nlohmann::json list = nlohmann::json::array();
                 size_t mailbox = 0;
                 size_t holds_pending = 0;
                 // Money of two currencies is never added together: totals per currency, and
                 // the release 2 figures for the default currency.
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
                   currencies[code] = {
                       {"balance_held", domain::format_minor(sums.first, exponents[code])},
                       {"holds_held", domain::format_minor(sums.second, exponents[code])}};
                 }
                 const auto defaults = by_currency[fallback.code];
                 nlohmann::json body{
                     {"actors", list},
                     {"totals",
                      {{"live", snapshots.size()},
                       {"mailbox_size", mailbox},
                       {"balance_held", domain::format_minor(defaults.first, fallback.exponent)},
                       {"holds_pending", holds_pending},
                       {"holds_held", domain::format_minor(defaults.second, fallback.exponent)},
                       {"by_currency", std::move(currencies)}}}};
                 responder->send(200, body.dump());
               };
               ledger.inspect(std::move(query));
             });

  // Per currency: the accounts, the money in transit, and @world (minus deposits - withdrawals);
  // ?verify=true sums @world from the ledger's rows too (a scan) and says whether both agree.
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

  auto bridges = deps.bridges;
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
                                   {"mailbox_size", mailbox}};
          responder->send(200, body.dump());
        });
      });

  // Beyond one machine (SPEC.md section 7): the partition map as Postgres holds it, and which
  // entries are this instance's (same owner and the epoch it took: its commits pass the fence).
  auto owned = deps.owned;
  router.add("GET", "/admin/partitions",
             [&ledger, owned, authorized](const HttpRequest& request, ResponderPtr responder) {
               if (!authorized(request, responder)) return;
               ledger.partitions([responder,
                                  owned](domain::Result<std::vector<actors::PartitionOwner>> rows) {
                 if (!rows) return responder->send_error(rows.error());
                 std::map<int, int64_t> mine;
                 if (owned) {
                   for (const auto& [partition, epoch] : owned->held()) mine[partition] = epoch;
                 }
                 const std::string me = owned ? owned->instance_id() : "";
                 nlohmann::json list = nlohmann::json::array();
                 for (const auto& row : rows.value()) {
                   auto held = mine.find(row.partition);
                   list.push_back(
                       {{"partition", row.partition},
                        {"owner", row.owner.empty() ? nlohmann::json() : nlohmann::json(row.owner)},
                        {"epoch", row.epoch},
                        {"taken_at",
                         row.taken_at.empty() ? nlohmann::json() : nlohmann::json(row.taken_at)},
                        {"held_here",
                         held != mine.end() && row.owner == me && held->second == row.epoch}});
                 }
                 nlohmann::json body{{"instance_id", me},
                                     {"partition_count", list.size()},
                                     {"partitions", std::move(list)}};
                 responder->send(200, body.dump());
               });
             });

  // Transfers between owners whose credit is not committed yet (SPEC.md section 7), ledger-wide.
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
          nlohmann::json list = nlohmann::json::array();
          for (const auto& leg : found->oldest) {
            list.push_back({{"transfer_id", leg.transfer_id},
                            {"from_user_id", leg.from_user_id},
                            {"to_user_id", leg.to_user_id},
                            {"amount", domain::format_minor(leg.amount, leg.exponent)},
                            {"to_partition", leg.to_partition},
                            {"since", leg.created_at}});
          }
          nlohmann::json by_currency = nlohmann::json::object();
          for (const auto& currency : found->by_currency) {
            by_currency[currency.code] = domain::format_minor(currency.total, currency.exponent);
          }
          nlohmann::json body{
              {"count", found->count},
              {"by_currency", std::move(by_currency)},
              {"amount",
               domain::format_minor(found->total,
                                    domain::configured_currencies().default_currency().exponent)},
              {"transfers", std::move(list)}};
          responder->send(200, body.dump());
        });
      });
}

}  // namespace

void add_transaction_routes(Router& router, TransactionApiDeps deps) {
  add_money_routes(router, deps);
  add_account_routes(router, deps);
  add_transactions_routes(router, deps);
  add_admin_routes(router, deps);
  add_transaction_hold_routes(router, deps);  // across owners, between instances
}

}  // namespace wallet::http
