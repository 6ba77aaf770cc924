#include "domain/outcomes.hpp"

#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/time_text.hpp"

namespace wallet::domain {
namespace {

using nlohmann::json;

std::string money(int64_t minor, const AnswerForm& form) {
  return format_minor(minor, form.exponent);
}

json body_of(const Deposited& d) {
  if (d.form.accounts()) {
    return {{"account_id", d.account_id},
            {"user_id", d.form.from_owner},
            {"transaction_id", d.transaction_id},
            {"updated_balance", money(d.updated_balance, d.form)},
            {"currency", d.form.currency}};
  }
  return {{"user_id", d.account_id},
          {"transaction_id", d.transaction_id},
          {"updated_balance", money(d.updated_balance, d.form)}};
}

json body_of(const Transferred& t) {
  if (t.form.accounts()) {
    return {{"transfer_id", t.transfer_id},
            {"from_account_id", t.from_id},
            {"to_account_id", t.to_id},
            {"from_user_id", t.form.from_owner},
            {"to_user_id", t.form.to_owner},
            {"amount", money(t.amount, t.form)},
            {"from_balance", money(t.from_balance, t.form)},
            {"currency", t.form.currency}};
  }
  return {{"transfer_id", t.transfer_id},
          {"from_user_id", t.from_id},
          {"to_user_id", t.to_id},
          {"amount", money(t.amount, t.form)},
          {"from_balance", money(t.from_balance, t.form)}};
}

json body_of(const HoldPlaced& h) {
  json body{{"hold_id", h.hold_id},
            {"from_user_id", h.form.accounts() ? h.form.from_owner : h.from_id},
            {"to_user_id", h.form.accounts() ? h.form.to_owner : h.to_id},
            {"amount", money(h.amount, h.form)},
            {"status", "pending"},
            {"expires_at", format_epoch_ms(h.expires_at_ms)},
            {"available_balance", money(h.available_balance, h.form)}};
  if (h.form.accounts()) {
    body["from_account_id"] = h.from_id;
    body["to_account_id"] = h.to_id;
    body["currency"] = h.form.currency;
  }
  return body;
}

json body_of(const HoldCaptured& c) {
  return {{"hold_id", c.hold_id},
          {"transfer_id", c.transfer_id},
          {"amount", money(c.amount, c.form)},
          {"status", "captured"},
          {"from_balance", money(c.from_balance, c.form)}};
}

json body_of(const HoldVoided& v) { return {{"hold_id", v.hold_id}, {"status", "voided"}}; }

// The body; the status is status_of's (one place decides each).
struct Body {
  std::string operator()(const Encoded& e) const { return e.body; }
  std::string operator()(const Refused& r) const { return error_body(r.error); }
  template <typename Done>
  std::string operator()(const Done& done) const {
    return body_of(done).dump();
  }
};

struct Status {
  int operator()(const Encoded& e) const { return e.status; }
  int operator()(const Refused& r) const { return http_status(r.error.code); }
  int operator()(const HoldPlaced&) const { return 201; }
  template <typename Done>
  int operator()(const Done&) const {
    return 200;
  }
};

}  // namespace

int status_of(const Outcome& outcome) { return std::visit(Status{}, outcome); }

Encoded encode(const Outcome& outcome) { return {status_of(outcome), std::visit(Body{}, outcome)}; }

std::optional<Error> decode_refusal(const Encoded& answer) {
  auto body = json::parse(answer.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) {
    return std::nullopt;
  }
  const auto& error = body["error"];
  Error decoded{ErrorCode::unavailable, ""};
  if (!error.contains("code") || !error["code"].is_string() ||
      !parse_code_name(error["code"].get<std::string>(), decoded.code)) {
    return std::nullopt;
  }
  if (error.contains("message") && error["message"].is_string()) {
    decoded.message = error["message"].get<std::string>();
  }
  if (error.contains("account_id") && error["account_id"].is_string()) {
    decoded.account_id = error["account_id"].get<std::string>();
  }
  return decoded;
}

}  // namespace wallet::domain
