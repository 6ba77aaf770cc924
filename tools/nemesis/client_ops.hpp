// How a nemesis client performs one operation over the public HTTP API, as a careful real client
// would: the request is built from the op's arguments once; an unknown outcome (no answer, 5xx,
// 429) is retried with the same Idempotency-Key and body on a random instance until a definite
// answer or the op's deadline; a definite answer is 2xx (ok) or a 4xx refusal (fail).
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tools/nemesis/history.hpp"
#include "tools/wallet_stress/http_session.hpp"

namespace wallet::nemesis {

// One client's own connections: a keep-alive session per instance, never shared between threads.
class ClientConnections {
 public:
  ClientConnections(const std::vector<std::string>& urls, long timeout_ms);
  size_t size() const { return sessions_.size(); }
  stress::HttpSession& at(size_t i) { return *sessions_.at(i); }
  const std::string& url(size_t i) const { return urls_.at(i); }
  size_t pick(std::mt19937_64& rng) const;  // a random instance's index

 private:
  std::vector<std::string> urls_;
  std::vector<std::unique_ptr<stress::HttpSession>> sessions_;
};

struct HttpRequest {
  bool post = true;
  std::string path;
  std::string body;  // POST only
};

// The request of an op (f and args, tools/nemesis/history.hpp); throws on an unknown f.
HttpRequest request_for(const Op& op);

enum class Verdict { kOk, kFail, kUnknown };
Verdict classify(int status);

// Sends op until a definite answer or deadline_ns; sets outcome (ok, fail, info), status, body,
// attempts and complete_ns. A read is sent once (an unanswered read is simply not a read).
void execute(Op& op, ClientConnections& connections, std::mt19937_64& rng, int64_t deadline_ns);

// The money fields of answers, as the checker needs them ("" when absent).
std::string answer_text(const Op& op, const char* field);

}  // namespace wallet::nemesis
