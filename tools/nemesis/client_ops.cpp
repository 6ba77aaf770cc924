// Requests of the nemesis workload and their retry by key (tools/nemesis/client_ops.hpp).
#include "tools/nemesis/client_ops.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace wallet::nemesis {

ClientConnections::ClientConnections(const std::vector<std::string>& urls, long timeout_ms)
    : urls_(urls) {
  for (const std::string& url : urls) {
    sessions_.push_back(std::make_unique<stress::HttpSession>(url, timeout_ms));
  }
}

size_t ClientConnections::pick(std::mt19937_64& rng) const {
  return std::uniform_int_distribution<size_t>(0, sessions_.size() - 1)(rng);
}

HttpRequest request_for(const Op& op) {
  const nlohmann::json& a = op.args;
  nlohmann::json body;
  if (op.f == "deposit" || op.f == "withdraw") {
    body = {{"user_id", a.at("account")}, {"amount", a.at("amount")}};
    return {true, op.f == "deposit" ? "/addMoney" : "/withdrawMoney", body.dump()};
  }
  if (op.f == "transfer") {
    body = {{"from_user_id", a.at("from")},
            {"to_user_id", a.at("to")},
            {"amount_to_transfer", a.at("amount")}};
    return {true, "/transferMoney", body.dump()};
  }
  if (op.f == "hold") {
    // Long enough never to expire within a run: expiry would be a third way out of a hold.
    body = {{"from_user_id", a.at("from")},
            {"to_user_id", a.at("to")},
            {"amount", a.at("amount")},
            {"timeout_seconds", 86400}};
    return {true, "/holds", body.dump()};
  }
  if (op.f == "capture" || op.f == "void") {
    return {true, "/holds/" + a.at("hold_id").get<std::string>() + "/" + op.f, "{}"};
  }
  if (op.f == "post") {
    body = {{"postings", a.at("postings")}, {"reference", op.key}};
    return {true, "/transactions", body.dump()};
  }
  if (op.f == "read" && a.contains("email")) {
    // user-service asks transaction-service over NATS; '@' escaped for the query string.
    std::string email = a.at("email");
    email.replace(email.find('@'), 1, "%40");
    return {false, "/getBalance?email=" + email, ""};
  }
  if (op.f == "read") {
    return {false, "/users/" + a.at("account").get<std::string>() + "/balance", ""};
  }
  throw std::invalid_argument("unknown op " + op.f);
}

Verdict classify(int status) {
  if (status >= 200 && status < 300) return Verdict::kOk;
  // 429 and every 5xx (503 timeout, 504 upstream_timeout, 500) may or may not have moved money.
  if (status == 0 || status == 429 || status >= 500) return Verdict::kUnknown;
  return Verdict::kFail;
}

void execute(Op& op, ClientConnections& connections, std::mt19937_64& rng, int64_t deadline_ns) {
  const HttpRequest request = request_for(op);
  // Bounded backoff: 100 ms doubling to 1.6 s, so a long partition costs few requests.
  int backoff_ms = 100;
  for (;;) {
    const size_t instance = connections.pick(rng);
    stress::HttpSession& session = connections.at(instance);
    op.instance = connections.url(instance);
    stress::HttpAnswer answer =
        request.post ? session.post(request.path, request.body, op.key) : session.get(request.path);
    ++op.attempts;
    op.complete_ns = now_ns();
    op.status = answer.status;
    op.body = nlohmann::json::parse(answer.body, nullptr, false);
    if (op.body.is_discarded()) op.body = answer.status == 0 ? answer.error : answer.body;
    const Verdict verdict = classify(answer.status);
    if (verdict != Verdict::kUnknown) {
      op.outcome = verdict == Verdict::kOk ? "ok" : "fail";
      return;
    }
    if (op.f == "read" || now_ns() + backoff_ms * 1000000LL >= deadline_ns) {
      op.outcome = "info";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 1600);
  }
}

std::string answer_text(const Op& op, const char* field) {
  if (!op.body.is_object()) return "";
  auto it = op.body.find(field);
  return it != op.body.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace wallet::nemesis
