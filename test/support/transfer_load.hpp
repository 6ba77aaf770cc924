// TransferLoad: keyed transfers from several client threads, the way a careful client behaves in
// an outage: a request without a definitive answer (no HTTP answer, 429, 503, 504) is retried
// with the same Idempotency-Key until it gets one (200 or 409) or the load is told to give up.
// Reliability tests run it while they kill, stop or restart things, then check what it recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wallet::test {

struct LoadOptions {
  std::string url;                    // transaction-service
  std::vector<std::string> accounts;  // funded beforehand
  int clients = 8;
  int transfers_per_client = 200;
  std::chrono::milliseconds retry_delay{50};
  std::chrono::seconds request_timeout{5};
};

struct KeyedTransfer {
  std::string key;
  std::string body;
  int final_status = 0;  // 200 or 409 once settled; 0 while it has none
  std::string final_body;
  int attempts = 0;
  int unanswered = 0;           // attempts that got no HTTP answer
  std::map<int, int> statuses;  // every status seen (0 = no answer)
};

class TransferLoad {
 public:
  explicit TransferLoad(LoadOptions options);
  ~TransferLoad();

  void start();
  // Waits until every transfer has a definitive answer or `limit` passes; true when all settled.
  bool wait(std::chrono::seconds limit);
  void stop();  // give up on what is left

  std::vector<KeyedTransfer> results() const;
  size_t settled() const { return settled_.load(); }

 private:
  void client_loop(int index);

  LoadOptions options_;
  std::vector<std::vector<KeyedTransfer>> work_;  // per client
  mutable std::mutex mutex_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> settled_{0};
  std::vector<std::thread> threads_;
};

}  // namespace wallet::test
