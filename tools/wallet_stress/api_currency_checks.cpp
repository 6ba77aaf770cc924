// The API verifier's checks of the accounts in several currencies (--currencies): each
// account-form transfer's outcome, and the accounts through GET /accounts/{id} once settled (the
// account operations step by step: api_account_ops_check.cpp).
#include <chrono>
#include <thread>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/api_verifier_internal.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress::api_checks {
namespace {

using Clock = std::chrono::steady_clock;

// An account of AccountSetup::extra as GET /accounts/{id} shows it.
struct ExtraView {
  std::optional<int64_t> balance, available, line;
  std::string status, currency;
  std::string error;
};

ExtraView read_extra(HttpSession& session, const CurrencyAccount& account) {
  ExtraView view;
  auto answer = get_with_retries(session, "/accounts/" + account.account_id);
  auto body = nlohmann::json::parse(answer.body, nullptr, false);
  auto minor = [&](const char* field) -> std::optional<int64_t> {
    if (!body.is_object() || !body.contains(field) || !body[field].is_string()) return std::nullopt;
    return domain::parse_stored_minor(body[field].get<std::string>(), account.exponent);
  };
  view.balance = minor("balance");
  view.available = minor("available_balance");
  view.line = minor("overdraft_limit");
  if (answer.status != 200 || !view.balance || !view.available || !view.line ||
      !body["status"].is_string() || !body["currency"].is_string()) {
    view.balance.reset();
    view.error = "GET /accounts/" + account.account_id + ": " + std::to_string(answer.status) +
                 " " + answer.body.substr(0, 200);
    return view;
  }
  view.status = body["status"].get<std::string>();
  view.currency = body["currency"].get<std::string>();
  return view;
}

// The money the run moved on the currency accounts, from the answers 200 (201 for a hold): each
// account's expected balance and pending holds, and per currency funding + deposits - withdrawals.
void expect_extra(const TransferPlan& plan, const std::vector<CurrencyAccount>& extra,
                  size_t currency_count, const LoadResult& load, std::vector<int64_t>& balance,
                  std::vector<int64_t>& held, std::vector<int64_t>& outside) {
  balance.assign(extra.size(), 0);
  held.assign(extra.size(), 0);
  outside.assign(currency_count, 0);
  for (size_t a = 0; a < extra.size(); ++a) {
    balance[a] = extra[a].funded_minor;
    outside[extra[a].currency] += extra[a].funded_minor;
  }
  for (size_t t = 0; t < plan.transfers.size(); ++t) {
    const auto& p = plan.transfers[t];
    if (p.kind == OpKind::xfer_acct && load.keys[t].status == 200) {
      balance[p.from] -= p.amount_minor;
      balance[p.to] += p.amount_minor;
    }
    if (!is_account_op(p.kind) || load.account_ops.size() <= t) continue;
    for (const auto& s : load.account_ops[t].steps) {
      const auto from = static_cast<size_t>(s.from);
      const auto to = static_cast<size_t>(s.to);
      switch (s.effect) {
        case StepEffect::deposit:
          if (s.status != 200) break;
          balance[from] += s.amount_minor;
          outside[extra[from].currency] += s.amount_minor;
          break;
        case StepEffect::withdraw:
          if (s.status != 200) break;
          balance[from] -= s.amount_minor;
          outside[extra[from].currency] -= s.amount_minor;
          break;
        case StepEffect::transfer:
          if (s.status != 200) break;
          balance[from] -= s.amount_minor;
          balance[to] += s.amount_minor;
          break;
        case StepEffect::hold:
          if (s.status == 201) held[from] += s.amount_minor;
          break;
        case StepEffect::void_hold:
          if (s.status == 200) held[from] -= s.amount_minor;
          break;
        case StepEffect::none:
          break;
      }
    }
  }
}

// Every currency account through GET /accounts/{id}, read again while its balance differs from
// the expected one for up to --settle-wait seconds.
std::vector<ExtraView> read_settled_extra(const StressConfig& config,
                                          const std::vector<CurrencyAccount>& extra,
                                          const std::vector<int64_t>& expected_minor) {
  std::vector<ExtraView> views(extra.size());
  run_parallel(extra.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms,
               [&](HttpSession& session, size_t a) { views[a] = read_extra(session, extra[a]); });
  // As for the default accounts: credits across owners land a moment after their answer.
  const auto settle_until =
      Clock::now() +
      std::chrono::milliseconds(static_cast<long>(config.settle_wait_seconds * 1000));
  for (;;) {
    std::vector<size_t> unsettled;
    for (size_t a = 0; a < extra.size(); ++a) {
      if (views[a].balance && *views[a].balance != expected_minor[a]) {
        unsettled.push_back(a);
      }
    }
    if (unsettled.empty() || Clock::now() >= settle_until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    run_parallel(unsettled.size(), config.concurrency, config.transaction_services,
                 config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                   views[unsettled[i]] = read_extra(session, extra[unsettled[i]]);
                 });
  }
  return views;
}

// The negative control: the driver's record of one account (the first one for transfers) is
// off by one minor unit in its balance (a credit that never happened, so its currency's total
// too), its pending holds and its overdraft line.
void miscount_one_account(const std::vector<CurrencyAccount>& extra, ApiVerification& out,
                          std::vector<int64_t>& held, std::vector<int64_t>& outside) {
  for (size_t a = 0; a < extra.size(); ++a) {
    if (extra[a].closable) continue;
    out.expected_extra_minor[a] += 1;
    outside[extra[a].currency] += 1;
    held[a] += 1;
    out.expected_extra_line[a] += 1;
    break;
  }
}

}  // namespace

// An account-form transfer's outcome: 200 describing it (accounts, users, currency, the amount at
// the currency's exponent), 409 insufficient_funds, or 409 account_frozen when its payer is one a
// freeze operation froze for a while.
void check_xfer_acct_outcome(const TransferPlan& plan, const std::vector<CurrencyAccount>& extra,
                             const std::vector<CurrencyInfo>& currencies,
                             const std::vector<bool>& freezes, uint32_t t, const KeyRecord& k,
                             nlohmann::json body, ApiVerification& out, InvariantResult& matches) {
  const auto& p = plan.transfers[t];
  const auto& from = extra[p.from];
  const auto& to = extra[p.to];
  const std::string key = plan.key(t);
  if (!body.is_object()) body = nlohmann::json::object();  // fails every field check below
  auto& counts = out.account_outcomes;
  ++counts.xfer_acct;
  if (k.status == 200) {
    ++out.outcomes.accepted;
    ++counts.xfer_acct_accepted;
    const bool ok = body["transfer_id"].is_string() &&
                    domain::is_uuid(body["transfer_id"].get<std::string>()) &&
                    body["from_account_id"] == from.account_id &&
                    body["to_account_id"] == to.account_id &&
                    body["from_user_id"] == from.user_id && body["to_user_id"] == to.user_id &&
                    body["currency"] == currencies[from.currency].code &&
                    body["amount"] == domain::format_minor(p.amount_minor, from.exponent);
    if (!ok) matches.fail(key + " (xfer_acct): 200 does not describe the transfer sent: " + k.body);
  } else if (k.status == 409 && is_error(body, "insufficient_funds")) {
    ++out.outcomes.refused;
    ++counts.xfer_acct_insufficient;
  } else if (k.status == 409 && is_error(body, "account_frozen") && freezes[p.from]) {
    ++out.outcomes.refused_frozen;
    ++counts.xfer_acct_frozen;
  } else {
    ++out.outcomes.other;
    matches.fail(key + " (xfer_acct): " + std::to_string(k.status) + " " + k.body.substr(0, 300));
  }
}

// The currency accounts through GET /accounts/{id}, once settled: balances, conservation per
// currency, balance rules, and the lines and statuses the driver left.
void check_currency_accounts(const StressConfig& config, const TransferPlan& plan,
                             const std::vector<CurrencyAccount>& extra,
                             const std::vector<CurrencyInfo>& currencies, const LoadResult& load,
                             ApiVerification& out, InvariantResult sequences,
                             InvariantResult replays) {
  std::vector<int64_t> held, outside;
  expect_extra(plan, extra, currencies.size(), load, out.expected_extra_minor, held, outside);
  out.expected_extra_line = load.line_minor;
  out.expected_extra_status = load.status;
  if (config.self_check_corrupt_accounts) miscount_one_account(extra, out, held, outside);
  const auto views = read_settled_extra(config, extra, out.expected_extra_minor);
  InvariantResult balances(
      "accounts: each balance = funding + credits - debits of its 200 answers (GET "
      "/accounts/{id})");
  InvariantResult conserved(
      "accounts: money conserved per currency (sum of balances = funding + deposits - "
      "withdrawals)");
  InvariantResult rules(
      "accounts: balance >= -overdraft_limit and available = balance + overdraft_limit - holds");
  InvariantResult record("accounts: currency, status and overdraft line = the driver's record");
  std::vector<int64_t> totals(currencies.size(), 0);
  std::vector<bool> known(currencies.size(), true);
  out.extra_read_minor.assign(extra.size(), std::nullopt);
  for (size_t a = 0; a < extra.size(); ++a) {
    const auto& account = extra[a];
    const auto& view = views[a];
    auto money = [&account](int64_t minor) {
      return domain::format_minor(minor, account.exponent);
    };
    if (!view.balance) {
      balances.fail(account.account_id + ": " + view.error);
      known[account.currency] = false;
      continue;
    }
    const int64_t balance = *view.balance;
    out.extra_read_minor[a] = balance;
    totals[account.currency] += balance;
    if (balance != out.expected_extra_minor[a]) {
      balances.fail(account.account_id + ": balance " + money(balance) + ", expected " +
                    money(out.expected_extra_minor[a]));
    }
    if (balance < -*view.line || *view.available != balance + *view.line - held[a]) {
      rules.fail(account.account_id + ": balance " + money(balance) + ", overdraft_limit " +
                 money(*view.line) + ", available " + money(*view.available) + ", held " +
                 money(held[a]));
    }
    if (view.currency != currencies[account.currency].code ||
        view.status != out.expected_extra_status[a] || *view.line != out.expected_extra_line[a]) {
      record.fail(account.account_id + ": " + view.currency + " " + view.status +
                  " overdraft_limit " + money(*view.line) + ", the driver left it " +
                  currencies[account.currency].code + " " + out.expected_extra_status[a] +
                  " overdraft_limit " + money(out.expected_extra_line[a]));
    }
  }
  for (size_t c = 0; c < currencies.size(); ++c) {
    const int e = currencies[c].exponent;
    if (!known[c]) {
      conserved.fail(currencies[c].code + ": some balance unknown");
    } else if (totals[c] != outside[c]) {
      conserved.fail(currencies[c].code + ": balances add up to " +
                     domain::format_minor(totals[c], e) + ", funding + deposits - withdrawals to " +
                     domain::format_minor(outside[c], e));
    }
  }
  out.invariants.push_back(std::move(balances));
  out.invariants.push_back(std::move(conserved));
  out.invariants.push_back(std::move(rules));
  out.invariants.push_back(std::move(record));
  out.invariants.push_back(std::move(sequences));
  out.invariants.push_back(std::move(replays));
}

}  // namespace wallet::stress::api_checks
