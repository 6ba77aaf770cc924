// Transactions of many postings (SPEC.md section 8): POST /transactions, GET /transactions/{id}
// and POST /transactions/{id}/reverse. The handlers decode, find the accounts a transaction names
// (404 account_not_found, 400 currency_mismatch, 409 account_closed, each naming the account),
// and hand the transaction to the Ledger, which applies it all or nothing through the accounts'
// actors; the 201 body is rendered here and stored as the key's outcome.
#include "http/transactions_api.hpp"

#include <algorithm>
#include <set>

#include "domain/ids.hpp"
#include "domain/transaction_requests.hpp"
#include "http/account_api.hpp"
#include "http/common.hpp"
#include "http/query_api.hpp"

namespace wallet::http {
namespace {

using Verifier = std::shared_ptr<const JwtVerifier>;

nlohmann::json parsed_object(const std::string& text) {
  auto object = nlohmann::json::parse(text, nullptr, false);
  return object.is_discarded() ? nlohmann::json::object() : object;
}

// The 201 body of a transaction (and of a reversal, which names what it reverses).
std::string transaction_body(const std::string& transaction_id, const std::string& postings,
                             const std::string& metadata,
                             const std::optional<std::string>& reference,
                             const std::string& reverses, const std::string& created_at) {
  nlohmann::json body{{"transaction_id", transaction_id},
                      {"postings", parsed_object(postings)},
                      {"metadata", parsed_object(metadata)},
                      {"reference", reference ? nlohmann::json(*reference) : nlohmann::json()},
                      {"created_at", created_at}};
  if (!reverses.empty()) body["reverses"] = reverses;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<domain::PostingRequest> as_requests(const std::vector<actors::PostingView>& postings) {
  std::vector<domain::PostingRequest> out;
  for (const auto& p : postings) out.push_back({p.from, p.to, p.amount, p.currency, p.exponent});
  return out;
}

std::vector<std::string> accounts_named(const std::vector<domain::PostingRequest>& postings) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& p : postings) {
    for (const auto* side : {&p.from, &p.to}) {
      if (*side != domain::kWorldAccount && seen.insert(*side).second) ids.push_back(*side);
    }
  }
  return ids;
}

const std::string& first_payer(const std::vector<domain::PostingRequest>& postings) {
  for (const auto& p : postings) {
    if (p.from != domain::kWorldAccount) return p.from;
  }
  return postings.front().to;
}

// The accounts every posting names, checked against the postings' currencies; answers 404
// account_not_found or 400 currency_mismatch (naming the account) itself. Read through the
// ledger's AccountFacts: a payment does not wait for a Postgres read of accounts it saw a moment
// ago.
void with_posting_accounts(
    actors::Ledger& ledger, const std::vector<domain::PostingRequest>& postings,
    ResponderPtr responder,
    std::function<void(std::vector<actors::AccountView>, ResponderPtr)> then) {
  auto ids = accounts_named(postings);
  ledger.posting_accounts(ids, [ids, postings, responder, then = std::move(then)](
                                   domain::Result<std::vector<actors::AccountView>> found) {
    if (!found) return responder->send_error(found.error());
    for (const auto& id : ids) {
      auto it = std::find_if(found->begin(), found->end(),
                             [&](const actors::AccountView& a) { return a.account_id == id; });
      if (it == found->end()) {
        return responder->send_error(
            {domain::ErrorCode::account_not_found, "no account " + id, id});
      }
    }
    for (const auto& p : postings) {
      for (const auto* side : {&p.from, &p.to}) {
        if (*side == domain::kWorldAccount) continue;
        const auto& account = *std::find_if(found->begin(), found->end(),
                                            [&](const auto& a) { return a.account_id == *side; });
        if (account.currency != p.currency) {
          return responder->send_error({domain::ErrorCode::currency_mismatch,
                                        "account " + account.account_id + " holds " +
                                            account.currency + ", its posting moves " + p.currency,
                                        account.account_id});
        }
      }
    }
    then(std::move(found.value()), responder);
  });
}

// With JWT auth on: an operator, or the user of every account the transaction takes money from
// (a posting from @world creates money: operators only).
bool allowed_to_pay(const std::optional<JwtClaims>& claims,
                    const std::vector<domain::PostingRequest>& postings,
                    const std::vector<actors::AccountView>& accounts,
                    const ResponderPtr& responder) {
  if (!claims || has_role(*claims, "operator")) return true;
  for (const auto& p : postings) {
    if (p.from == domain::kWorldAccount) {
      forbid(responder, "money from @world needs a token with the operator role");
      return false;
    }
    const auto& payer = *std::find_if(accounts.begin(), accounts.end(),
                                      [&](const auto& a) { return a.account_id == p.from; });
    if (!subject_is(*claims, payer.user_id)) {
      forbid(responder, "the token's subject is not the user of every account paying");
      return false;
    }
  }
  return true;
}

// Hands a decoded transaction (or reversal) to the Ledger once its accounts are checked.
void start(actors::Ledger& ledger, actors::TransactionCommand command,
           const std::vector<domain::PostingRequest>& postings, std::optional<JwtClaims> claims,
           ResponderPtr responder, actors::ReplyFn reply = nullptr) {
  // The accounts' own actors decide everything else (unknown, closed, currency, the balance
  // rules: each refusal names the account), so the accounts are read here only when a token's
  // subject must be the user of every paying account (no read on the money path otherwise).
  if (!claims || has_role(*claims, "operator")) {
    command.reply = reply ? std::move(reply) : answer_with(std::move(responder));
    ledger.transact(std::move(command));
    return;
  }
  with_posting_accounts(
      ledger, postings, responder,
      [&ledger, postings, claims, command = std::move(command), reply = std::move(reply)](
          std::vector<actors::AccountView> accounts, ResponderPtr responder) mutable {
        if (!allowed_to_pay(claims, postings, accounts, responder)) return;
        if (refused_as_closed(ledger, accounts, command.tag, responder, true)) return;
        command.reply = reply ? std::move(reply) : answer_with(std::move(responder));
        ledger.transact(std::move(command));
      });
}

actors::TransactionCommand command_for(const std::vector<domain::PostingRequest>& postings) {
  actors::TransactionCommand command;
  for (const auto& p : postings) command.postings.push_back({p.from, p.to, p.amount, p.currency});
  command.postings_json = domain::postings_json(postings);
  return command;
}

void add_post_route(Router& router, actors::Ledger& ledger,
                    std::shared_ptr<const OwnerRouting> routing, Verifier verifier) {
  router.add("POST", "/transactions",
             [&ledger, routing, verifier](const HttpRequest& request, ResponderPtr responder) {
               std::optional<JwtClaims> claims;
               if (verifier && !(claims = authenticate(*verifier, request, responder))) return;
               if (!require_json(request, responder)) return;
               auto decoded =
                   domain::decode_transaction(request.body, request.header("idempotency-key"));
               if (!decoded) return responder->send_error(decoded.error());
               const auto& postings = decoded->postings;
               // Beyond one machine: to the owner of the first account that pays (its debits are
               // decided there), or of the first account when only @world pays.
               if (routing && routing->elsewhere(first_payer(postings), request, responder)) return;
               auto command = command_for(postings);
               command.metadata = decoded->metadata;
               command.reference = decoded->reference;
               command.tag = tag_for("transactions", decoded->idempotency_key,
                                     domain::canonical_transaction(decoded.value()));
               command.render = [postings = command.postings_json, metadata = command.metadata,
                                 reference = command.reference](const std::string& id,
                                                                const std::string& created_at) {
                 return transaction_body(id, postings, metadata, reference, "", created_at);
               };
               start(ledger, std::move(command), postings, claims, std::move(responder));
             });
}

std::optional<std::string> path_transaction_id(const HttpRequest& request,
                                               const ResponderPtr& responder) {
  auto id = domain::normalize_uuid(request.params.at("transaction_id"));
  if (!id) {
    responder->send_error(
        {domain::ErrorCode::invalid_transaction_id, "transaction_id must be a UUID"});
  }
  return id;
}

domain::Error no_transaction(const std::string& id) {
  return {domain::ErrorCode::transaction_not_found, "no transaction " + id};
}

void add_get_route(Router& router, actors::Ledger& ledger) {
  router.add("GET", "/transactions/{transaction_id}",
             [&ledger](const HttpRequest& request, ResponderPtr responder) {
               auto id = path_transaction_id(request, responder);
               if (!id) return;
               using Found = std::optional<actors::TransactionView>;
               ledger.transaction(*id, [responder, id = *id](domain::Result<Found> found) {
                 if (!found) return responder->send_error(found.error());
                 if (!found.value()) return responder->send_error(no_transaction(id));
                 responder->send(200, view_json(*found.value()).dump());
               });
             });
}

// The reversal of `original`: its postings inverted, of `amount` of its one posting or of what is
// left of it; or the refusal (400 invalid_amount, 409 already_reversed).
struct Reversal {
  actors::TransactionCommand command;
  std::vector<domain::PostingRequest> postings;
};
domain::Result<Reversal> reversal_of(const actors::TransactionView& original,
                                     const domain::ReversalRequest& decoded) {
  const bool single = original.postings.size() == 1;
  if (decoded.amount && !single) {
    return domain::Error{domain::ErrorCode::invalid_amount,
                         "only a transaction of one posting is reversed in part"};
  }
  const int exponent = single ? original.postings.front().exponent : 0;
  const int64_t reversible = single ? original.postings.front().amount : 1;
  const int64_t left = reversible - original.reversed;
  if (left <= 0) {
    return domain::Error{domain::ErrorCode::already_reversed,
                         "transaction " + original.transaction_id + " is reversed already"};
  }
  int64_t amount = left;
  if (decoded.amount) {
    auto minor = decoded.amount->to_minor(exponent);
    if (!minor) return minor.error();
    if (*minor > left) {
      return domain::Error{domain::ErrorCode::already_reversed,
                           "only " + domain::format_minor(left, exponent) + " of transaction " +
                               original.transaction_id + " is left to reverse"};
    }
    amount = *minor;
  }
  Reversal reversal;
  for (const auto& p : original.postings) {
    reversal.postings.push_back({p.to, p.from, single ? amount : p.amount, p.currency, p.exponent});
  }
  reversal.command = command_for(reversal.postings);
  auto& command = reversal.command;
  command.reverses = original.transaction_id;
  command.reversible = reversible;
  command.reversed_now = single ? amount : 1;
  command.reversal_exponent = exponent;
  command.metadata = original.metadata;
  command.render = [postings = command.postings_json, metadata = command.metadata,
                    reverses = original.transaction_id](const std::string& id,
                                                        const std::string& created_at) {
    return transaction_body(id, postings, metadata, std::nullopt, reverses, created_at);
  };
  return reversal;
}

// How many times a reversal that waited for racing reversals of its transaction reads the
// transaction again before it gives up (503, nothing changed).
constexpr int kReversalRechecks = 5;

// Reads the transaction, decides the reversal and hands it to the Ledger; a reversal that waited
// behind racing ones (actors::kRecheck) starts over from the read.
// Every attempt keeps the request's deadline (`deadline`, set once when it arrived).
void reverse_once(actors::Ledger& ledger, const std::string& id,
                  const domain::ReversalRequest& decoded,
                  const std::optional<actors::IdempotencyTag>& tag,
                  const std::optional<JwtClaims>& claims, const ResponderPtr& responder,
                  int rechecks, actors::Deadline deadline) {
  using Found = std::optional<actors::TransactionView>;
  ledger.transaction(id, [&ledger, responder, claims, tag, id, decoded, rechecks,
                          deadline](domain::Result<Found> found) {
    if (!found) return responder->send_error(found.error());
    if (!found.value()) return responder->send_error(no_transaction(id));
    auto reversal = reversal_of(*found.value(), decoded);
    if (!reversal) {
      // Through the key's gate: a retry of a reversal that committed replays its 201 instead of
      // hearing already_reversed.
      if (tag) return ledger.refuse(*tag, reversal.error(), answer_with(responder), deadline);
      return responder->send_error(reversal.error());
    }
    reversal->command.tag = tag;
    reversal->command.deadline = deadline;
    reversal->command.reversed_at_read = found.value()->reversed;
    auto answer = answer_with(responder);
    actors::ReplyFn reply = [&ledger, id, decoded, tag, claims, responder, rechecks, deadline,
                             answer](actors::Reply reply) {
      if (reply.status() != actors::kRecheck) return answer(std::move(reply));
      if (rechecks > 0) {
        return reverse_once(ledger, id, decoded, tag, claims, responder, rechecks - 1, deadline);
      }
      responder->send_error({domain::ErrorCode::unavailable,
                             "reversals of this transaction are racing; nothing changed, retry"});
    };
    start(ledger, std::move(reversal->command), reversal->postings, claims, responder,
          std::move(reply));
  });
}

void add_reverse_route(Router& router, actors::Ledger& ledger, Verifier verifier) {
  router.add("POST", "/transactions/{transaction_id}/reverse",
             [&ledger, verifier](const HttpRequest& request, ResponderPtr responder) {
               std::optional<JwtClaims> claims;
               if (verifier && !(claims = authenticate(*verifier, request, responder))) return;
               auto id = path_transaction_id(request, responder);
               if (!id) return;
               if (!require_json(request, responder)) return;
               auto decoded =
                   domain::decode_reversal(request.body, request.header("idempotency-key"));
               if (!decoded) return responder->send_error(decoded.error());
               auto tag = tag_for("reverse", decoded->idempotency_key,
                                  domain::canonical_reversal(*id, decoded.value()));
               reverse_once(ledger, *id, decoded.value(), tag, claims, responder, kReversalRechecks,
                            ledger.deadline_from_now());
             });
}

}  // namespace

nlohmann::json view_json(const actors::TransactionView& view) {
  auto body = parsed_object(
      transaction_body(view.transaction_id, domain::postings_json(as_requests(view.postings)),
                       view.metadata, view.reference, view.reverses, view.created_at));
  if (view.postings.size() == 1) {
    const auto& p = view.postings.front();
    body["reversed_amount"] = domain::format_minor(view.reversed, p.exponent);
    body["reversed"] = view.reversed >= p.amount;
  } else {
    body["reversed"] = view.reversed > 0;
  }
  return body;
}

void add_transactions_routes(Router& router, const TransactionApiDeps& deps) {
  Verifier verifier;
  if (!deps.jwt_secret.empty()) verifier = std::make_shared<const JwtVerifier>(deps.jwt_secret);
  add_post_route(router, deps.ledger, deps.routing, verifier);
  add_get_route(router, deps.ledger);
  add_reverse_route(router, deps.ledger, verifier);
  add_query_routes(router, deps);  // http/query_api.cpp
}

}  // namespace wallet::http
