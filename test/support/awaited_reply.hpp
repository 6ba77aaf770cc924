// AwaitedReply: waits in a test for the one answer of a callback-style API (NATS requester,
// ledger queries). The callback shares ownership of the promise, so the answering thread may still
// be inside set_value() when the test has already woken up and moved on.
#pragma once

#include <functional>
#include <future>
#include <memory>

namespace wallet::test {

template <class T>
class AwaitedReply {
 public:
  std::function<void(T)> callback() {
    return [promise = promise_](T value) { promise->set_value(std::move(value)); };
  }
  T get() { return future_.get(); }

 private:
  std::shared_ptr<std::promise<T>> promise_ = std::make_shared<std::promise<T>>();
  std::future<T> future_ = promise_->get_future();
};

}  // namespace wallet::test
