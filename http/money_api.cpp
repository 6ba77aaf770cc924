// The money movements: POST /addMoney, /transferMoney and /withdrawMoney, in either form.
#include <spdlog/spdlog.h>

#include "domain/requests.hpp"
#include "http/common.hpp"
#include "http/jwt.hpp"
#include "http/transaction_routes.hpp"

namespace wallet::http {
namespace {

void add_deposit_route(Router& router, actors::Ledger& ledger,
                       std::shared_ptr<const JwtVerifier> verifier,
                       std::shared_ptr<const OwnerRouting> routing) {
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
}

void add_transfer_route(Router& router, actors::Ledger& ledger,
                        std::shared_ptr<const JwtVerifier> verifier,
                        std::shared_ptr<const OwnerRouting> routing) {
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
}

void add_withdraw_route(Router& router, actors::Ledger& ledger,
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
}

}  // namespace

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
  add_deposit_route(router, ledger, verifier, routing);
  add_transfer_route(router, ledger, verifier, routing);
  add_withdraw_route(router, ledger, routing);
}

}  // namespace wallet::http
