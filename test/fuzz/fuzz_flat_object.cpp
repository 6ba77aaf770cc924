// Fuzzes parse_flat_object, the strict decoder of every JSON request body, differentially against
// nlohmann's DOM parser: what it accepts is a JSON object of scalars within the limits, with the
// same keys and values; what the DOM sees as such an object it accepts unless a key repeats. Every
// error renders as the contract's JSON error shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/json_fields.hpp"
#include "test/fuzz/fuzz_check.hpp"

namespace {

using wallet::domain::ErrorCode;
using wallet::domain::FlatObject;
using wallet::domain::JsonScalar;
using wallet::fuzz::escaped;
using Json = nlohmann::json;

bool is_scalar_object_within_limits(const Json& dom) {
  if (!dom.is_object() || dom.size() > wallet::domain::kMaxJsonFields) return false;
  for (const auto& [key, value] : dom.items()) {
    if (key.size() > wallet::domain::kMaxJsonKeyBytes) return false;
    if (value.is_structured()) return false;
    if (value.is_string() &&
        value.get_ref<const std::string&>().size() > wallet::domain::kMaxJsonStringBytes) {
      return false;
    }
  }
  return true;
}

void check_field(const std::string& key, const JsonScalar& field, const Json& value,
                 std::string_view body) {
  const std::string where = "field " + escaped(key) + " of " + escaped(body);
  switch (field.kind) {
    case JsonScalar::Kind::string:
      FUZZ_CHECK(value.is_string() && value.get<std::string>() == field.text, where);
      FUZZ_CHECK(field.text.size() <= wallet::domain::kMaxJsonStringBytes, where);
      break;
    case JsonScalar::Kind::boolean:
      FUZZ_CHECK(value.is_boolean() && field.text == (value.get<bool>() ? "true" : "false"), where);
      break;
    case JsonScalar::Kind::null:
      FUZZ_CHECK(value.is_null() && field.text == "null", where);
      break;
    case JsonScalar::Kind::number:
      FUZZ_CHECK(value.is_number(), where);
      if (value.is_number_float()) {
        // The text as written, which strtod reads to the very value the DOM holds.
        char* end = nullptr;
        const double parsed = std::strtod(field.text.c_str(), &end);
        FUZZ_CHECK(end == field.text.c_str() + field.text.size(), where + " text " + field.text);
        FUZZ_CHECK(parsed == value.get<double>(), where + " text " + field.text);
      } else {
        FUZZ_CHECK(field.text == value.dump(), where + " text " + field.text);
      }
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = wallet::fuzz::as_text(data, size);
  const auto result = wallet::domain::parse_flat_object(body);
  const Json dom = Json::parse(body.begin(), body.end(), nullptr, false);
  const bool has_nul = body.find('\0') != std::string_view::npos;

  if (!result) {
    const auto& error = result.error();
    FUZZ_CHECK(error.code == ErrorCode::invalid_json, escaped(body));
    FUZZ_CHECK(!error.message.empty() && error.message.size() < 200, error.message);
    const Json rendered = Json::parse(wallet::domain::error_body(error), nullptr, false);
    FUZZ_CHECK(rendered.is_object() && rendered["error"]["code"] == "invalid_json" &&
                   rendered["error"]["message"].is_string(),
               error.message);
    if (!dom.is_discarded() && !has_nul && is_scalar_object_within_limits(dom)) {
      // The DOM keeps the last of repeated keys; that is the one thing the strict decoder refuses
      // (repeats can also push the field count over the limit before the repeat is seen, and an
      // earlier value of a repeated key may be the one over the length limit: the DOM keeps only
      // the last, shorter one).
      FUZZ_CHECK(error.message.find("more than once") != std::string::npos ||
                     error.message.find("more than 32 fields") != std::string::npos ||
                     error.message.find("is longer than") != std::string::npos,
                 escaped(body) + ": " + error.message);
    }
    return 0;
  }

  const FlatObject& fields = *result;
  FUZZ_CHECK(!has_nul, escaped(body));
  FUZZ_CHECK(!dom.is_discarded() && dom.is_object(), escaped(body));
  FUZZ_CHECK(fields.size() == dom.size(), escaped(body));
  FUZZ_CHECK(fields.size() <= wallet::domain::kMaxJsonFields, escaped(body));
  for (const auto& [key, field] : fields) {
    FUZZ_CHECK(key.size() <= wallet::domain::kMaxJsonKeyBytes, escaped(key));
    FUZZ_CHECK(dom.contains(key), escaped(key));
    check_field(key, field, dom[key], body);
    FUZZ_CHECK(wallet::domain::find(fields, key) == &field, escaped(key));
  }
  return 0;
}
