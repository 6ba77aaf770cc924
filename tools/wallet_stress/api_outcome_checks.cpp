// The API verifier's checks of the keys: one outcome each, and that outcome answers the request
// that was sent (transfers, holds, captures, voids, withdrawals, payments).
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/api_verifier_internal.hpp"

namespace wallet::stress::api_checks {
namespace {

// Holds and withdrawals: the outcome of a hold, capture, void or withdrawal answers its request. A
// capture's transfer id joins transfer_ids (its rows are checked like a transfer's).
void check_hold_or_withdrawal_outcome(const TransferPlan& plan,
                                      const std::vector<Account>& accounts, const LoadResult& load,
                                      uint32_t t, nlohmann::json body, ApiVerification& out,
                                      InvariantResult& matches,
                                      std::vector<std::string>& transfer_ids) {
  const auto& k = load.keys[t];
  const auto& p = plan.transfers[t];
  const std::string key = plan.key(t);
  const std::string amount = domain::format_minor_units(p.amount_minor);
  bool ok = false;
  if (!body.is_object()) body = nlohmann::json::object();  // fails every field check below
  switch (p.kind) {
    case OpKind::withdraw:
      ok = k.status == 200
               ? body["user_id"] == accounts[p.from].user_id &&
                     body["transaction_id"].is_string() && body["updated_balance"].is_string()
               : k.status == 409 && is_error(body, "insufficient_funds");
      break;
    case OpKind::hold:
      ok = k.status == 201
               ? body["from_user_id"] == accounts[p.from].user_id &&
                     body["to_user_id"] == accounts[p.to].user_id && body["amount"] == amount &&
                     body["status"] == "pending" && body["hold_id"].is_string()
               : k.status == 409 && is_error(body, "insufficient_funds");
      break;
    case OpKind::capture:
      ok = k.status == 200 && body["amount"] == amount && body["status"] == "captured" &&
           body["transfer_id"].is_string() &&
           domain::is_uuid(body["transfer_id"].get<std::string>());
      if (ok) transfer_ids[t] = *domain::normalize_uuid(body["transfer_id"].get<std::string>());
      break;
    case OpKind::void_hold:
      ok = k.status == 200 && body["status"] == "voided";
      break;
    case OpKind::transfer:
    case OpKind::payment:    // check_payment_outcome
    case OpKind::xfer_acct:  // check_xfer_acct_outcome, check_account_ops
    case OpKind::overdraft:
    case OpKind::freeze:
    case OpKind::close:
      break;
  }
  // Holds of a run do not expire during it, and each is closed once: a capture or void must win.
  if (ok) {
    ++((k.status == 409) ? out.outcomes.refused : out.outcomes.accepted);
  } else {
    ++out.outcomes.other;
    matches.fail(key + " (" + op_kind_name(p.kind) + "): " + std::to_string(k.status) + " " +
                 k.body.substr(0, 300));
  }
}

// --fee-payments: a payment's outcome is 201 describing the transaction sent (a transaction id and
// exactly its two postings) or 409 insufficient_funds naming its payer, the one account that pays.
void check_payment_outcome(const TransferPlan& plan, const std::vector<Account>& accounts,
                           uint32_t t, const KeyRecord& k, nlohmann::json body,
                           ApiVerification& out, InvariantResult& matches) {
  if (!body.is_object()) body = nlohmann::json::object();  // fails every field check below
  const std::string key = plan.key(t);
  if (k.status == 201) {
    ++out.outcomes.accepted;
    const auto sent = nlohmann::json::parse(plan.body(t, accounts));
    const bool ok = body["transaction_id"].is_string() &&
                    domain::is_uuid(body["transaction_id"].get<std::string>()) &&
                    body["postings"] == sent["postings"];
    if (!ok) matches.fail(key + " (payment): 201 does not describe the payment sent: " + k.body);
  } else if (k.status == 409 && is_error(body, "insufficient_funds") &&
             body["error"]["account_id"] == accounts[plan.transfers[t].from].user_id) {
    ++out.outcomes.refused;
  } else {
    ++out.outcomes.other;
    matches.fail(key + " (payment): " + std::to_string(k.status) + " " + k.body.substr(0, 300));
  }
}

}  // namespace

// Keys: one outcome each, and that outcome answers the request that was sent. Fills the
// accepted transfer id per key (empty when the key was not accepted).
void check_outcomes(const TransferPlan& plan, const std::vector<Account>& accounts,
                    const LoadResult& load, ApiVerification& out,
                    std::vector<std::string>& transfer_ids,
                    const std::vector<CurrencyAccount>& extra,
                    const std::vector<CurrencyInfo>& currencies) {
  // The accounts some freeze operation freezes for a while (their debits may be
  // refused account_frozen then).
  std::vector<bool> freezes(extra.size(), false);
  for (const auto& p : plan.transfers) {
    if (p.kind == OpKind::freeze) freezes[p.from] = true;
  }
  InvariantResult one("every key has exactly one outcome (identical answers, one original)");
  InvariantResult matches(
      "every outcome answers its request (200 transfer or 409 insufficient_funds)");
  transfer_ids.assign(plan.transfers.size(), "");
  for (size_t t = 0; t < load.keys.size(); ++t) {
    const auto& k = load.keys[t];
    if (!k.sent) continue;
    const std::string key = plan.key(static_cast<uint32_t>(t));
    if (k.answers == 0) {
      ++out.outcomes.unresolved;
      one.fail(key + ": no definitive answer after every retry");
      continue;
    }
    if (k.differing > 0) {
      one.fail(key + ": first " + std::to_string(k.status) + " " + k.body + ", later " +
               k.differing_example);
    }
    if (k.originals > 1) {
      one.fail(key + ": " + std::to_string(k.originals) +
               " answers not marked Idempotent-Replayed");
    }
    const auto& planned = plan.transfers[t];
    auto body = nlohmann::json::parse(k.body, nullptr, false);
    if (is_account_op(planned.kind)) continue;  // judged step by step: check_account_ops
    if (planned.kind == OpKind::xfer_acct) {
      check_xfer_acct_outcome(plan, extra, currencies, freezes, static_cast<uint32_t>(t), k, body,
                              out, matches);
      continue;
    }
    if (planned.kind == OpKind::payment) {
      check_payment_outcome(plan, accounts, static_cast<uint32_t>(t), k, body, out, matches);
      continue;
    }
    if (planned.kind != OpKind::transfer) {
      check_hold_or_withdrawal_outcome(plan, accounts, load, static_cast<uint32_t>(t), body, out,
                                       matches, transfer_ids);
      continue;
    }
    if (k.status == 200) {
      ++out.outcomes.accepted;
      const bool ok = body.is_object() && body["transfer_id"].is_string() &&
                      domain::is_uuid(body["transfer_id"].get<std::string>()) &&
                      body["from_user_id"] == accounts[planned.from].user_id &&
                      body["to_user_id"] == accounts[planned.to].user_id &&
                      body["amount"] == domain::format_minor_units(planned.amount_minor);
      if (ok) {
        transfer_ids[t] = *domain::normalize_uuid(body["transfer_id"].get<std::string>());
      } else {
        matches.fail(key + ": 200 does not describe the transfer sent: " + k.body);
      }
    } else if (k.status == 409 && body.is_object() && body["error"].is_object() &&
               body["error"]["code"] == "insufficient_funds") {
      ++out.outcomes.refused;
    } else {
      ++out.outcomes.other;
      matches.fail(key + ": " + std::to_string(k.status) + " " + k.body.substr(0, 300));
    }
  }
  out.invariants.push_back(std::move(one));
  out.invariants.push_back(std::move(matches));
}

}  // namespace wallet::stress::api_checks
