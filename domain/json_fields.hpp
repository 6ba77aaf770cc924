// Strict decoder for request bodies that are flat JSON objects of scalars. Numbers keep their
// original text so that money is parsed from what the client wrote, never from a double.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::domain {

constexpr std::size_t kMaxJsonFields = 32;
constexpr std::size_t kMaxJsonKeyBytes = 64;
constexpr std::size_t kMaxJsonStringBytes = 1024;

struct JsonScalar {
  enum class Kind { string, number, boolean, null };
  Kind kind;
  // string: the decoded UTF-8 content (escapes resolved); number: the text as written
  // ("12.30", "1e2", "123456789012345678901234567890"); boolean: "true"/"false"; null: "null".
  // One exception: "-0" is reported as "0" (the parser gives integers only as values).
  std::string text;
};

using FlatObject = std::map<std::string, JsonScalar, std::less<>>;

// Decodes body as one JSON object whose values are all scalars. ErrorCode::invalid_json for:
// an empty body, malformed JSON or invalid UTF-8, a top level that is not an object, a nested
// object or array value, duplicate keys, more than kMaxJsonFields fields, a key longer than
// kMaxJsonKeyBytes, a string value longer than kMaxJsonStringBytes, a number beyond the range
// of a double (e.g. 1e400). Messages never echo the body. Never throws.
Result<FlatObject> parse_flat_object(std::string_view body);

// As parse_flat_object, but the field `nested_key` may also be a JSON object of scalars (one level,
// its keys up to 256 bytes): then it is in `nested`, not in `fields` (a scalar there stays in
// `fields`). An array there, or an object or array inside it, is ErrorCode::invalid_metadata.
struct ObjectWithNested {
  FlatObject fields;
  std::optional<FlatObject> nested;
};
Result<ObjectWithNested> parse_object_with_nested(std::string_view body,
                                                  std::string_view nested_key);

// The field named key, or nullptr.
const JsonScalar* find(const FlatObject& object, std::string_view key);

}  // namespace wallet::domain
