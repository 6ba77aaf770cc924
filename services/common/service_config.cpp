#include "services/common/service_config.hpp"

#include <cstdlib>

namespace wallet::services {

namespace {

const char* set_value(const char* name) {
  const char* value = std::getenv(name);
  return (value && *value) ? value : nullptr;
}

}  // namespace

void read_env(const char* name, std::string& field, std::vector<std::string>&) {
  if (const char* value = set_value(name)) field = value;
}

void read_env(const char* name, int64_t& field, std::vector<std::string>& problems) {
  const char* value = set_value(name);
  if (!value) return;
  char* end = nullptr;
  const long long parsed = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0') {
    problems.push_back(std::string("name=") + name + " value=\"" + value +
                       "\" using=" + std::to_string(field));
    return;
  }
  field = parsed;
}

}  // namespace wallet::services
