#include "test/support/transfer_load.hpp"

#include <nlohmann/json.hpp>
#include <random>

#include "domain/ids.hpp"
#include "test/support/http_client.hpp"

namespace wallet::test {

TransferLoad::TransferLoad(LoadOptions options) : options_(std::move(options)) {
  std::mt19937_64 random(std::random_device{}());
  const size_t n = options_.accounts.size();
  work_.resize(options_.clients);
  for (auto& list : work_) {
    for (int i = 0; i < options_.transfers_per_client; ++i) {
      size_t from = random() % n;
      size_t to = (from + 1 + random() % (n - 1)) % n;
      int64_t cents = 1 + static_cast<int64_t>(random() % 5'000);
      char amount[32];
      std::snprintf(amount, sizeof(amount), "%ld.%02ld", static_cast<long>(cents / 100),
                    static_cast<long>(cents % 100));
      KeyedTransfer transfer;
      transfer.key = domain::new_uuid_v4();
      transfer.body = nlohmann::json{
          {"from_user_id", options_.accounts[from]},
          {"to_user_id", options_.accounts[to]},
          {"amount_to_transfer",
           amount}}.dump();
      list.push_back(std::move(transfer));
    }
  }
}

TransferLoad::~TransferLoad() { stop(); }

void TransferLoad::start() {
  for (int i = 0; i < options_.clients; ++i) threads_.emplace_back([this, i] { client_loop(i); });
}

void TransferLoad::client_loop(int index) {
  HttpClient client(options_.url, options_.request_timeout);
  for (auto& transfer : work_[index]) {
    while (!stopping_.load()) {
      auto response =
          client.post("/transferMoney", transfer.body,
                      {{"Idempotency-Key", transfer.key}, {"Connection", "keep-alive"}});
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++transfer.attempts;
        ++transfer.statuses[response.status];
        if (response.status == 0) ++transfer.unanswered;
        if (response.status == 200 || response.status == 409) {
          transfer.final_status = response.status;
          transfer.final_body = response.body;
          ++settled_;
          break;
        }
      }
      std::this_thread::sleep_for(options_.retry_delay);
    }
  }
}

bool TransferLoad::wait(std::chrono::seconds limit) {
  const size_t total = static_cast<size_t>(options_.clients) * options_.transfers_per_client;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (settled_.load() < total && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool all = settled_.load() == total;
  stop();
  return all;
}

void TransferLoad::stop() {
  stopping_.store(true);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<KeyedTransfer> TransferLoad::results() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<KeyedTransfer> all;
  for (const auto& list : work_) all.insert(all.end(), list.begin(), list.end());
  return all;
}

}  // namespace wallet::test
