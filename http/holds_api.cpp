// Holds: POST /holds places one, POST /holds/{hold_id}/capture and /void close it, GET
// /holds/{hold_id} reads it. (Holds of transactions across owners: transaction_holds_api.cpp.)
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/requests.hpp"
#include "domain/time_text.hpp"
#include "http/common.hpp"
#include "http/transaction_routes.hpp"

namespace wallet::http {
namespace {

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

void add_place_hold_route(Router& router, actors::Ledger& ledger,
                          std::shared_ptr<const OwnerRouting> routing) {
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
}

void add_close_hold_routes(Router& router, actors::Ledger& ledger,
                           std::shared_ptr<const OwnerRouting> routing) {
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
}

void add_get_hold_route(Router& router, actors::Ledger& ledger) {
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

}  // namespace

void add_hold_routes(Router& router, actors::Ledger& ledger,
                     std::shared_ptr<const OwnerRouting> routing) {
  add_place_hold_route(router, ledger, routing);
  add_close_hold_routes(router, ledger, routing);
  add_get_hold_route(router, ledger);
}

}  // namespace wallet::http
