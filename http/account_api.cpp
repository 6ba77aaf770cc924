#include "http/account_api.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "domain/requests.hpp"
#include "http/common.hpp"

namespace wallet::http {
namespace {

std::optional<std::string> path_account_id(const HttpRequest& request,
                                           const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("account_id"));
  if (!id) {
    responder->send_error({domain::ErrorCode::invalid_account_id, "account_id must be a UUID"});
  }
  return id;
}

domain::Error no_account(const std::string& id) {
  return {domain::ErrorCode::account_not_found, "no account " + id};
}

void add_currency_route(Router& router) {
  router.add("GET", "/currencies", [](const HttpRequest&, ResponderPtr responder) {
    const auto& currencies = domain::configured_currencies();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& currency : currencies.all()) {
      list.push_back({{"code", currency.code},
                      {"exponent", currency.exponent},
                      {"default", currency.code == currencies.default_currency().code}});
    }
    responder->send(200, nlohmann::json{{"currencies", std::move(list)},
                                        {"default_currency", currencies.default_currency().code}}
                             .dump());
  });
}

using Verifier = std::shared_ptr<const JwtVerifier>;

// With JWT auth on: an operator, or the user the account is (to be) of.
bool allowed_for(const std::optional<JwtClaims>& claims, const std::string& user_id,
                 const ResponderPtr& responder) {
  if (!claims || has_role(*claims, "operator") || subject_is(*claims, user_id)) return true;
  forbid(responder, "the token's subject is not the account's user (nor an operator)");
  return false;
}

void add_open_route(Router& router, actors::Ledger& ledger, Verifier verifier) {
  router.add(
      "POST", "/accounts", [&ledger, verifier](const HttpRequest& request, ResponderPtr responder) {
        std::optional<JwtClaims> claims;
        if (verifier && !(claims = authenticate(*verifier, request, responder))) return;
        if (!require_json(request, responder)) return;
        auto decoded = domain::decode_account(request.body, request.header("idempotency-key"));
        if (!decoded) return responder->send_error(decoded.error());
        if (!allowed_for(claims, decoded->user_id, responder)) return;
        const auto* currency = domain::configured_currencies().find(decoded->currency);
        auto line = minor_or_answer(decoded->overdraft_limit, currency->exponent, true, responder);
        if (!line) return;
        actors::NewAccount account;
        account.account_id = domain::new_uuid_v4();
        account.user_id = decoded->user_id;
        account.currency = currency->code;
        account.exponent = currency->exponent;
        account.overdraft_limit = *line;
        account.metadata = decoded->metadata;
        const std::string hash = sha256_hex(domain::canonical_account(*decoded));
        if (decoded->idempotency_key) {
          account.outcome =
              actors::StoredOutcome{"accounts", *decoded->idempotency_key, hash, 201, "", 0};
        }
        ledger.create_account(
            std::move(account),
            [](const actors::AccountView& opened) { return account_json(opened).dump(); },
            [&ledger, responder, hash](domain::Result<actors::AccountOpened> opened) {
              using Kind = actors::AccountOpened::Kind;
              if (!opened) return responder->send_error(opened.error());
              switch (opened->kind) {
                case Kind::user_not_found:
                  return responder->send_error(
                      {domain::ErrorCode::user_not_found, "no user with that user_id"});
                case Kind::stored_outcome:
                  if (opened->stored.request_hash != hash) {
                    return responder->send_error(
                        {domain::ErrorCode::idempotency_key_mismatch,
                         "this Idempotency-Key was used with a different request"});
                  }
                  return responder->send(opened->stored.status, opened->stored.body,
                                         {{"Idempotent-Replayed", "true"}});
                case Kind::created:
                  break;
              }
              // An actor that looked for this id before it existed must look again.
              ledger.account_opened(opened->account.account_id);
              responder->send(201, account_json(opened->account).dump());
            });
      });
}

void add_read_routes(Router& router, actors::Ledger& ledger) {
  router.add("GET", "/accounts/{account_id}",
             [&ledger](const HttpRequest& request, ResponderPtr responder) {
               auto id = path_account_id(request, responder);
               if (!id) return;
               using Found = std::optional<actors::AccountView>;
               ledger.account(*id, [responder, id = *id](domain::Result<Found> found) {
                 if (!found) return responder->send_error(found.error());
                 if (!found.value()) return responder->send_error(no_account(id));
                 responder->send(200, account_json(*found.value()).dump());
               });
             });

  router.add("GET", "/users/{user_id}/accounts",
             [&ledger](const HttpRequest& request, ResponderPtr responder) {
               auto id = domain::normalize_uuid(request.params.at("user_id"));
               if (!id) {
                 return responder->send_error(
                     {domain::ErrorCode::invalid_user_id, "user_id must be a UUID"});
               }
               using Found = std::optional<std::vector<actors::AccountView>>;
               ledger.user_accounts(*id, [responder, id = *id](domain::Result<Found> found) {
                 if (!found) return responder->send_error(found.error());
                 if (!found.value()) {
                   return responder->send_error(
                       {domain::ErrorCode::user_not_found, "no account for user " + id});
                 }
                 nlohmann::json list = nlohmann::json::array();
                 for (const auto& account : *found.value()) list.push_back(account_json(account));
                 responder->send(
                     200, nlohmann::json{{"user_id", id}, {"accounts", std::move(list)}}.dump());
               });
             });
}

// The account as it was read before a change, with the change applied: the answer to a PATCH
// whose commit is durable when the account cannot be read back (never an error for a change that
// committed).
actors::AccountView changed_view(actors::AccountView account, const actors::AccountUpdate& update) {
  if (update.status) account.status = actors::account_status_name(*update.status);
  if (update.status == actors::AccountStatus::closed) account.overdraft_limit = 0;
  if (update.overdraft_limit) account.overdraft_limit = *update.overdraft_limit;
  if (update.metadata) account.metadata = *update.metadata;
  return account;
}

// Answers 200 with the account read back after its change committed (its balance as of now), or,
// when it cannot be read, as it was read before with the change applied.
void answer_committed_change(actors::Ledger& ledger, const ResponderPtr& responder,
                             actors::AccountView changed) {
  using Found = std::optional<actors::AccountView>;
  ledger.account(changed.account_id,
                 [responder, changed = std::move(changed)](domain::Result<Found> read) {
                   const bool fresh = read && read.value();
                   responder->send(200, account_json(fresh ? *read.value() : changed).dump());
                 });
}

// PATCH: the account's actor decides the change in its order with the money work, then the
// account is read back.
void add_patch_route(Router& router, actors::Ledger& ledger,
                     std::shared_ptr<const OwnerRouting> routing, Verifier verifier) {
  router.add("PATCH", "/accounts/{account_id}",
             [&ledger, routing, verifier](const HttpRequest& request, ResponderPtr responder) {
               std::optional<JwtClaims> claims;
               if (verifier && !(claims = authenticate(*verifier, request, responder))) return;
               auto id = path_account_id(request, responder);
               if (!id) return;
               if (!require_json(request, responder)) return;
               auto decoded = domain::decode_account_patch(request.body);
               if (!decoded) return responder->send_error(decoded.error());
               if (routing && routing->elsewhere(*id, request, responder)) return;
               with_accounts(
                   ledger, {*id}, responder,
                   [&ledger, claims, patch = std::move(decoded.value())](
                       std::vector<actors::AccountView> found, ResponderPtr responder) {
                     const auto& account = found.front();
                     if (!allowed_for(claims, account.user_id, responder)) return;
                     actors::AccountUpdate update;
                     update.account_id = account.account_id;
                     if (patch.status) update.status = actors::parse_account_status(*patch.status);
                     if (patch.overdraft_limit) {
                       auto line = minor_or_answer(*patch.overdraft_limit, account.exponent, true,
                                                   responder);
                       if (!line) return;
                       update.overdraft_limit = *line;
                     }
                     update.metadata = patch.metadata;
                     update.reply = [&ledger, responder,
                                     changed = changed_view(account, update)](actors::Reply reply) {
                       if (reply.status() != 200) {
                         auto refused = domain::encode(reply.outcome);
                         return responder->send(refused.status, refused.body);
                       }
                       answer_committed_change(ledger, responder, changed);
                     };
                     ledger.update_account(std::move(update));
                   });
             });
}

}  // namespace

std::function<void(actors::Reply)> answer_with(ResponderPtr responder) {
  return [responder = std::move(responder)](actors::Reply reply) {
    HeaderList headers;
    if (reply.replayed) headers.emplace_back("Idempotent-Replayed", "true");
    auto answer = domain::encode(reply.outcome);
    responder->send(answer.status, answer.body, headers);
  };
}

std::optional<actors::IdempotencyTag> tag_for(const char* endpoint,
                                              const std::optional<std::string>& key,
                                              const std::string& canonical) {
  if (!key) return std::nullopt;
  return actors::IdempotencyTag{endpoint, *key, sha256_hex(canonical)};
}

// Closed is final: an account-form request naming a closed account is refused with
// account_closed, whatever else its accounts would refuse (a payer without the money, say); a
// keyed one through the idempotency gate, which replays an outcome its key holds from before the
// close. True when refused.
bool refused_as_closed(actors::Ledger& ledger, const std::vector<actors::AccountView>& accounts,
                       const std::optional<actors::IdempotencyTag>& tag,
                       const ResponderPtr& responder, bool name_account) {
  for (const auto& account : accounts) {
    if (account.status != "closed") continue;
    domain::Error refusal{domain::ErrorCode::account_closed,
                          "account " + account.account_id + " is closed"};
    if (name_account) refusal.account_id = account.account_id;
    if (tag) {
      ledger.refuse(*tag, std::move(refusal), answer_with(responder));
    } else {
      responder->send_error(refusal);
    }
    return true;
  }
  return false;
}

nlohmann::json account_json(const actors::AccountView& account) {
  auto metadata = nlohmann::json::parse(account.metadata, nullptr, false);
  if (metadata.is_discarded()) metadata = nlohmann::json::object();
  const auto money = [&](int64_t minor) { return domain::format_minor(minor, account.exponent); };
  return {{"account_id", account.account_id},
          {"user_id", account.user_id},
          {"currency", account.currency},
          {"balance", money(account.balance)},
          {"available_balance", money(account.balance + account.overdraft_limit - account.held)},
          {"overdraft_limit", money(account.overdraft_limit)},
          {"status", account.status},
          {"metadata", std::move(metadata)},
          {"created_at", account.created_at}};
}

void with_accounts(actors::Ledger& ledger, std::vector<std::string> ids, ResponderPtr responder,
                   std::function<void(std::vector<actors::AccountView>, ResponderPtr)> then) {
  auto wanted = ids;
  ledger.accounts(std::move(ids), [wanted, responder, then = std::move(then)](
                                      domain::Result<std::vector<actors::AccountView>> found) {
    if (!found) return responder->send_error(found.error());
    std::vector<actors::AccountView> ordered;
    for (const auto& id : wanted) {
      auto it = std::find_if(found->begin(), found->end(),
                             [&](const actors::AccountView& a) { return a.account_id == id; });
      if (it == found->end()) return responder->send_error(no_account(id));
      ordered.push_back(*it);
    }
    for (const auto& account : ordered) {
      if (account.currency != ordered.front().currency) {
        return responder->send_error({domain::ErrorCode::currency_mismatch,
                                      "account " + ordered.front().account_id + " holds " +
                                          ordered.front().currency + ", account " +
                                          account.account_id + " holds " + account.currency});
      }
    }
    then(std::move(ordered), responder);
  });
}

std::optional<int64_t> minor_or_answer(const domain::Amount& written, int exponent, bool allow_zero,
                                       const ResponderPtr& responder) {
  if (allow_zero && written.units == 0) {
    if (written.scale <= exponent) return 0;
    responder->send_error({domain::ErrorCode::invalid_amount,
                           "the amount has more fractional digits than its currency"});
    return std::nullopt;
  }
  auto minor = written.to_minor(exponent);
  if (!minor) {
    responder->send_error(minor.error());
    return std::nullopt;
  }
  return minor.value();
}

void add_account_routes(Router& router, const TransactionApiDeps& deps) {
  Verifier verifier;
  if (!deps.jwt_secret.empty()) verifier = std::make_shared<const JwtVerifier>(deps.jwt_secret);
  add_currency_route(router);
  add_open_route(router, deps.ledger, verifier);
  add_read_routes(router, deps.ledger);
  add_patch_route(router, deps.ledger, deps.routing, verifier);
}

}  // namespace wallet::http
