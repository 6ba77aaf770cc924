// TransferPlan's operations as the HTTP requests that send them: the Idempotency-Key, the path and
// the body of each (transfer_plan.hpp).
#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/money.hpp"
#include "tools/wallet_stress/transfer_plan.hpp"

namespace wallet::stress {

std::string TransferPlan::key(uint32_t transfer) const {
  return "stress-" + run_id + "-t" + std::to_string(transfer);
}

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::transfer:
      return "transfer";
    case OpKind::payment:
      return "payment";
    case OpKind::hold:
      return "hold";
    case OpKind::capture:
      return "capture";
    case OpKind::void_hold:
      return "void";
    case OpKind::withdraw:
      return "withdraw";
    case OpKind::xfer_acct:
      return "xfer_acct";
    case OpKind::overdraft:
      return "overdraft";
    case OpKind::freeze:
      return "freeze";
    case OpKind::close:
      return "close";
  }
  return "transfer";
}

std::string TransferPlan::path(uint32_t transfer, const std::string& hold_id) const {
  switch (transfers[transfer].kind) {
    case OpKind::transfer:
    case OpKind::xfer_acct:
      return "/transferMoney";
    case OpKind::overdraft:
    case OpKind::freeze:
    case OpKind::close:
      return "/accounts";  // a sequence of requests: load_runner sends them
    case OpKind::hold:
      return "/holds";
    case OpKind::capture:
      return "/holds/" + hold_id + "/capture";
    case OpKind::void_hold:
      return "/holds/" + hold_id + "/void";
    case OpKind::withdraw:
      return "/withdrawMoney";
    case OpKind::payment:
      return "/transactions";
  }
  return "/transferMoney";
}

std::string TransferPlan::body(uint32_t transfer, const std::vector<Account>& accounts,
                               const std::vector<CurrencyAccount>& extra) const {
  const auto& t = transfers[transfer];
  const std::string amount = domain::format_minor_units(t.amount_minor);
  switch (t.kind) {
    case OpKind::transfer:
      break;
    case OpKind::xfer_acct:
      return nlohmann::json{
          {"from_account_id", extra[t.from].account_id},
          {"to_account_id", extra[t.to].account_id},
          {"amount", domain::format_minor(t.amount_minor, extra[t.from].exponent)}}
          .dump();
    case OpKind::overdraft:
      return nlohmann::json{
          {"overdraft_limit", domain::format_minor(t.amount_minor, extra[t.from].exponent)}}
          .dump();
    case OpKind::freeze:
    case OpKind::close:
      return "{}";
    case OpKind::hold:
      return nlohmann::json{{"from_user_id", accounts[t.from].user_id},
                            {"to_user_id", accounts[t.to].user_id},
                            {"amount", amount},
                            {"timeout_seconds", hold_timeout_seconds}}
          .dump();
    case OpKind::capture:
      return t.capture_all ? "{}" : nlohmann::json{{"amount", amount}}.dump();
    case OpKind::void_hold:
      return "{}";
    case OpKind::withdraw:
      return nlohmann::json{{"user_id", accounts[t.from].user_id}, {"amount", amount}}.dump();
    case OpKind::payment: {
      // A default account's id is its user's id.
      auto posting = [&](uint32_t to, int64_t minor) {
        return nlohmann::json{{"from", accounts[t.from].user_id},
                              {"to", accounts[to].user_id},
                              {"amount", domain::format_minor_units(minor)},
                              {"currency", currency}};
      };
      return nlohmann::json{
          {"postings", {posting(t.to, t.amount_minor), posting(t.fee_to, t.fee_minor)}}}
          .dump();
    }
  }
  return nlohmann::json{{"from_user_id", accounts[t.from].user_id},
                        {"to_user_id", accounts[t.to].user_id},
                        {"amount_to_transfer", domain::format_minor_units(t.amount_minor)}}
      .dump();
}

}  // namespace wallet::stress
