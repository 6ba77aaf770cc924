// Fuzzes decode_bulk (POST /transactions/bulk) and member_texts: never a crash or an exception on
// any input; an accepted bulk holds 1..1000 operations, each with a valid idempotency key and a
// path of one of the bulk's endpoints (an id, when it takes one, as one path segment); and each
// operation's body, the client's own bytes of its "data", parses to exactly the value the JSON
// parser gives for that "data" (or is "{}" without one). member_texts on any text ends and, on
// valid JSON, agrees with the parser the same way for every array and member name.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/bulk_request.hpp"
#include "domain/ids.hpp"
#include "domain/json_spans.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using namespace wallet::domain;
using wallet::fuzz::escaped;

bool known_path(const std::string& path) {
  for (const char* fixed :
       {"/addMoney", "/transferMoney", "/withdrawMoney", "/holds", "/transactions"}) {
    if (path == fixed) return true;
  }
  auto with_id = [&](const std::string& prefix, const std::string& suffix) {
    if (path.size() <= prefix.size() + suffix.size()) return false;
    if (path.compare(0, prefix.size(), prefix) != 0) return false;
    if (path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    const auto id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    return id.find('/') == std::string::npos && !id.empty();
  };
  return with_id("/holds/", "/capture") || with_id("/holds/", "/void") ||
         with_id("/transactions/", "/reverse");
}

// The spans member_texts finds for `array`/`member` against the parser's view of `parsed`.
void check_spans(const std::string& text, const nlohmann::json& parsed, const std::string& array,
                 const std::string& member) {
  const auto spans = member_texts(text, array, member);
  if (!parsed.is_object() || !parsed.contains(array) || !parsed[array].is_array()) return;
  const auto& items = parsed[array];
  FUZZ_CHECK(spans.size() == items.size(), escaped(text));
  for (size_t i = 0; i < items.size(); ++i) {
    const bool has = items[i].is_object() && items[i].contains(member);
    if (!has) {
      FUZZ_CHECK(spans[i].empty(), escaped(text));
      continue;
    }
    auto value = nlohmann::json::parse(spans[i], nullptr, false);
    FUZZ_CHECK(!value.is_discarded() && value == items[i][member],
               escaped(text) + " span " + escaped(spans[i]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)member_texts(text, "operations", "data");  // ends on anything
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_discarded()) {
    check_spans(text, parsed, "operations", "data");
    check_spans(text, parsed, "results", "body");
  }
  auto decoded = decode_bulk(text);
  if (!decoded) return 0;
  FUZZ_CHECK(!parsed.is_discarded(), escaped(text));
  FUZZ_CHECK(!decoded->empty() && decoded->size() <= kMaxBulkOperations, escaped(text));
  const auto& items = parsed["operations"];
  for (size_t i = 0; i < decoded->size(); ++i) {
    const auto& op = (*decoded)[i];
    FUZZ_CHECK(is_valid_idempotency_key(op.idempotency_key), escaped(text));
    FUZZ_CHECK(known_path(op.path), escaped(text) + " path " + escaped(op.path));
    auto body = nlohmann::json::parse(op.body, nullptr, false);
    const nlohmann::json expected =
        items[i].contains("data") ? items[i]["data"] : nlohmann::json::object();
    FUZZ_CHECK(body.is_object() && body == expected, escaped(text) + " body " + escaped(op.body));
  }
  return 0;
}
