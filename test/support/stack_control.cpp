#include "test/support/stack_control.hpp"

#include <cstdlib>

#include "test/support/environment.hpp"

namespace wallet::test {

bool stack_command(const std::string& verb, const std::string& part) {
  const std::string command = scripts_dir() + "/" + verb + " " + part + " >&2";
  return std::system(command.c_str()) == 0;
}

StackOutage::StackOutage(std::string part) : part_(std::move(part)) {
  down_ = stack_command("down", part_);
}

StackOutage::~StackOutage() {
  if (!restored_) stack_command("up", part_);
}

bool StackOutage::restore() {
  restored_ = stack_command("up", part_);
  return restored_;
}

}  // namespace wallet::test
