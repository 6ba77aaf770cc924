// Stopping and starting single parts of the local stack (postgres, kafka, nats, a service) from a
// test, through scripts/down and scripts/up as an operator would.
#pragma once

#include <string>

namespace wallet::test {

// Runs `$WALLET_SCRIPTS/<verb> <part>` (verb: up or down), its output on stderr; true on success.
bool stack_command(const std::string& verb, const std::string& part);

// Takes a part down for the scope of a test and brings it back up even when an assertion failed.
class StackOutage {
 public:
  explicit StackOutage(std::string part);
  ~StackOutage();
  StackOutage(const StackOutage&) = delete;
  StackOutage& operator=(const StackOutage&) = delete;

  bool down() const { return down_; }  // scripts/down succeeded
  bool restore();                      // scripts/up now; true on success

 private:
  std::string part_;
  bool down_ = false;
  bool restored_ = false;
};

}  // namespace wallet::test
