// The API verifier's check of the account operations (--currencies): each overdraft, freeze and
// close answered step by step as SPEC.md section 8 says, and a key replayed after its account
// closed.
#include "domain/currency.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/api_verifier_internal.hpp"

namespace wallet::stress::api_checks {

namespace {

// How one step of an account operation was answered against what SPEC.md section 8 specifies.
struct StepVerdict {
  std::string expected;
  bool right = true;
  bool skip = false;    // not judged
  bool replay = false;  // judged as a replay (its own invariant and control)
};

// Judges step `s` of operation `p` on account `a`; `emptied` is the emptying transfer's step once
// seen. With `corrupt_replay` the replay is expected with a space added (the negative control).
StepVerdict judge_step(const AccountStep& s, const PlannedTransfer& p, const CurrencyAccount& a,
                       const std::vector<CurrencyAccount>& extra, const std::string& code,
                       bool corrupt_replay, const AccountStep*& emptied, AccountOutcomes& counts) {
  auto money = [&a](int64_t minor) { return domain::format_minor(minor, a.exponent); };
  auto body = nlohmann::json::parse(s.body, nullptr, false);
  if (!body.is_object()) body = nlohmann::json::object();
  auto refused_with = [&](const char* error) { return s.status == 409 && is_error(body, error); };
  auto shows = [&](const char* status) {
    return s.status == 200 && body["account_id"] == a.account_id && body["status"] == status;
  };
  StepVerdict v;
  if (s.what == "line") {
    v.expected = "200 with overdraft_limit " + money(p.amount_minor) + ", or 409 limit_below_debt";
    const bool set = s.status == 200 && body["account_id"] == a.account_id &&
                     body["overdraft_limit"] == money(p.amount_minor);
    v.right = set || refused_with("limit_below_debt");
    counts.overdraft_set += set ? 1 : 0;
    counts.overdraft_below_debt += refused_with("limit_below_debt") ? 1 : 0;
  } else if (s.what == "freeze") {
    v.expected = "200 status frozen";
    v.right = shows("frozen");
  } else if (s.what == "debit while frozen" || s.what == "hold while frozen" ||
             s.what == "transfer while frozen") {
    v.expected = "409 account_frozen";
    v.right = refused_with("account_frozen");
  } else if (s.what == "void of a hold while frozen") {
    v.skip = true;  // clears a hold that should not exist; that hold was reported
  } else if (s.what == "credit while frozen") {
    v.expected = "200 crediting the account";
    v.right = s.status == 200 && body["account_id"] == a.account_id && body["currency"] == code;
  } else if (s.what == "unfreeze") {
    v.expected = "200 status open";
    v.right = shows("open");
  } else if (s.what == "close while holding money") {
    v.expected = a.funded_minor > 0 ? "409 account_not_empty" : "200 status closed";
    v.right = a.funded_minor > 0 ? refused_with("account_not_empty") : shows("closed");
  } else if (s.what == "read") {
    v.expected = "200 open with the balance it was funded with, " + money(a.funded_minor);
    v.right = shows("open") && body["balance"] == money(a.funded_minor);
  } else if (s.what == "empty") {
    v.expected = "200 moving its whole balance to " + extra[p.to].account_id;
    v.right = s.status == 200 && body["from_account_id"] == a.account_id &&
              body["to_account_id"] == extra[p.to].account_id && body["currency"] == code &&
              body["amount"] == money(s.amount_minor) && body["from_balance"] == money(0);
    emptied = &s;
  } else if (s.what == "close") {
    v.expected = "200 status closed, balance " + money(0) + ", overdraft_limit " + money(0);
    // A close whose answer was lost and that was then sent again finds the account closed.
    v.right =
        (shows("closed") && body["balance"] == money(0) && body["overdraft_limit"] == money(0)) ||
        ((s.retried || a.funded_minor == 0) && refused_with("account_closed"));
  } else if (s.what == "credit after close" || s.what == "transfer into a closed account" ||
             s.what == "reopen") {
    v.expected = "409 account_closed";
    v.right = refused_with("account_closed");
  } else if (s.what == "replay of the emptying transfer") {
    // The negative control expects the first replay's body with a space added.
    v.expected = corrupt_replay
                     ? "(self-check) the emptying transfer's answer with a space added"
                     : "the emptying transfer's answer again, marked Idempotent-Replayed";
    v.right = emptied && s.status == emptied->status &&
              s.body == emptied->body + (corrupt_replay ? " " : "") && s.replayed;
    v.replay = true;
  } else {
    v.expected = "a step this driver knows";
    v.right = false;
  }
  return v;
}

}  // namespace

// Each overdraft, freeze and close answered as SPEC.md section 8 says, step by step (the steps:
// load_runner.cpp); and the key of a transfer answered before its payer was closed, sent again
// after the close, replayed as SPEC.md section 2 says (`replays`). With
// --self-check-corrupt-accounts the first step of the first account operation is judged as if
// the opposite were specified, and the first replay against the emptying answer with a space
// added: each check must then fail (once, when the service answers rightly).
void check_account_ops(const StressConfig& config, const TransferPlan& plan,
                       const std::vector<CurrencyAccount>& extra,
                       const std::vector<CurrencyInfo>& currencies, const LoadResult& load,
                       ApiVerification& out, InvariantResult& sequences, InvariantResult& replays) {
  bool corrupt = config.self_check_corrupt_accounts;
  bool corrupt_replay = config.self_check_corrupt_accounts;
  auto& counts = out.account_outcomes;
  for (size_t t = 0; t < plan.transfers.size(); ++t) {
    const auto& p = plan.transfers[t];
    if (!is_account_op(p.kind) || !load.keys[t].sent) continue;
    ++(p.kind == OpKind::overdraft ? counts.overdraft
       : p.kind == OpKind::freeze  ? counts.freeze
                                   : counts.close);
    const auto& a = extra[p.from];
    const std::string& code = currencies[a.currency].code;
    const AccountStep* emptied = nullptr;
    bool all_right = true;
    for (const auto& s : load.account_ops[t].steps) {
      const auto v = judge_step(s, p, a, extra, code, corrupt_replay, emptied, counts);
      if (v.skip) continue;
      std::string expected = v.expected;
      bool right = v.right;
      InvariantResult* judged = &sequences;
      bool kept = false;  // replays have their own control
      bool* invert = &corrupt;
      if (v.replay) {
        corrupt_replay = false;
        judged = &replays;
        invert = &kept;
      }
      if (*invert) {
        right = !right;
        *invert = false;
        expected = "(self-check) the opposite of: " + expected;
      }
      if (!right) {
        all_right = false;
        judged->fail(plan.key(static_cast<uint32_t>(t)) + " (" + op_kind_name(p.kind) + ") " +
                     s.what + ": expected " + expected + "; " + s.request + " got " +
                     (s.status ? std::to_string(s.status) + " " + s.body.substr(0, 200)
                               : std::string("no answer")) +
                     (s.replayed ? " (replayed)" : ""));
      }
    }
    counts.sequences_as_specified += all_right ? 1 : 0;
  }
}

}  // namespace wallet::stress::api_checks
