// Forwarding (beyond one machine, SPEC.md section 7): any instance accepts any request; a money
// request for an account whose partition another instance serves is sent to that owner (over
// messaging::PartitionRequests, NATS request/reply on a per-partition subject), which runs it
// through its own router exactly as if a client had sent it there, and its answer (status, body,
// headers) is relayed to the client. A forwarded request is never forwarded again: an instance
// that receives one for a partition it no longer serves answers 503 partition_moved (retry).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/ledger.hpp"
#include "domain/result.hpp"
#include "http/router.hpp"

namespace wallet::http {

// `within`: how long the caller may wait for the owner's answer.
using SendToOwner = std::function<void(int partition, std::string payload,
                                       std::function<void(domain::Result<std::string>)> done,
                                       std::chrono::milliseconds within)>;

class OwnerRouting {
 public:
  // `answer_within`: a forwarded request is answered within this time of its arrival (the request
  // deadline plus a little slack): the owner's answer, or `504 upstream_timeout` (the outcome is
  // unknown, retry with the key), whatever stalls on the way.
  OwnerRouting(std::shared_ptr<const actors::OwnedPartitions> owned, SendToOwner send,
               Metrics* metrics = nullptr,
               std::chrono::milliseconds answer_within = std::chrono::milliseconds{5'500});

  // True when the request was handed to the account's owner (or answered 503 because it had
  // been forwarded here already): the handler stops. False: this instance serves the account.
  bool elsewhere(const std::string& user_id, const HttpRequest& request,
                 const ResponderPtr& responder) const;

  // The owner's side: runs a forwarded request (as encoded by elsewhere) through `router` and
  // hands the encoded answer to `reply`, once.
  void serve(const Router& router, const std::string& payload,
             std::function<void(std::string)> reply) const;

 private:
  std::shared_ptr<const actors::OwnedPartitions> owned_;
  SendToOwner send_;
  Metrics* metrics_;
  std::chrono::milliseconds answer_within_;
};

// The wire form (JSON), exposed for tests.
std::string encode_forwarded(const HttpRequest& request, const std::string& via);
std::optional<HttpRequest> decode_forwarded(const std::string& payload);
// An owner's answer as `serve` encodes it: its status and body (nullopt: not an answer).
std::optional<std::pair<int, std::string>> decode_answer(const std::string& payload);

}  // namespace wallet::http
