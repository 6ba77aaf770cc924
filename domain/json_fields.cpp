// Flat-object JSON decoding on nlohmann's SAX interface: the DOM would turn 12.30 into a double,
// the SAX number_float event still carries the token as written.
#include "domain/json_fields.hpp"

#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace wallet::domain {
namespace {

using Json = nlohmann::json;

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Collects the fields of one top-level object and stops at the first thing that is not allowed.
// Invariant: depth_ is 0 outside the top-level object and 1 inside it; deeper is never entered.
class FlatObjectReader final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return add(JsonScalar::Kind::null, "null"); }
  bool boolean(bool value) override {
    return add(JsonScalar::Kind::boolean, value ? "true" : "false");
  }
  bool number_integer(number_integer_t value) override {
    return add(JsonScalar::Kind::number, std::to_string(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return add(JsonScalar::Kind::number, std::to_string(value));
  }
  bool number_float(number_float_t /*value*/, const string_t& text) override {
    return add(JsonScalar::Kind::number, text);
  }
  bool string(string_t& value) override {
    if (depth_ == 1 && value.size() > kMaxJsonStringBytes) {
      return fail("field \"" + key_ + "\" is longer than 1024 bytes");
    }
    return add(JsonScalar::Kind::string, std::move(value));
  }
  bool binary(binary_t& /*value*/) override { return fail("request body must be JSON text"); }

  explicit FlatObjectReader(std::string_view nested_key = {}) : nested_key_(nested_key) {}

  bool start_object(std::size_t /*elements*/) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    if (depth_ == 1 && !nested_key_.empty() && key_ == nested_key_) {
      depth_ = 2;
      nested_.emplace();
      return true;
    }
    if (depth_ == 2) return fail_nested("values of \"" + nested_key_ + "\" must be strings");
    return fail("field \"" + key_ + "\" must not be an object");
  }
  bool key(string_t& key) override {
    if (depth_ == 2) {
      if (key.size() > kMaxNestedKeyBytes) {
        return fail_nested("a key of \"" + nested_key_ + "\" is too long");
      }
      if (nested_->size() == kMaxJsonFields) {
        return fail_nested("\"" + nested_key_ + "\" has too many keys");
      }
      if (nested_->count(key) != 0) {
        return fail("key \"" + key + "\" of \"" + nested_key_ + "\" appears more than once");
      }
      key_ = std::move(key);
      return true;
    }
    if (key.size() > kMaxJsonKeyBytes) return fail("a field name is longer than 64 bytes");
    if (fields_.size() == kMaxJsonFields) return fail("request body has more than 32 fields");
    if (fields_.count(key) != 0 || (nested_ && key == nested_key_)) {
      return fail("field \"" + key + "\" appears more than once");
    }
    key_ = std::move(key);
    return true;
  }
  bool end_object() override {
    if (depth_ == 2) {
      depth_ = 1;
      key_.clear();
      return true;
    }
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t /*elements*/) override {
    if (depth_ == 0) return fail("request body must be a JSON object, not an array");
    if (depth_ == 2) return fail_nested("values of \"" + nested_key_ + "\" must be strings");
    if (!nested_key_.empty() && key_ == nested_key_) {
      return fail_nested("\"" + nested_key_ + "\" must be a JSON object");
    }
    return fail("field \"" + key_ + "\" must not be an array");
  }
  bool end_array() override { return false; }  // unreachable: every array is refused at its start

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) override {
    // The library's message quotes the offending input; it is not passed on because the body may
    // hold invalid UTF-8 or personal data. Only the kind of problem and its offset are.
    const std::string what = error.what();
    const std::string at = " (at byte " + std::to_string(position) + ")";
    if (what.find("ill-formed UTF-8") != std::string::npos) {
      return fail("request body is not valid UTF-8" + at);
    }
    if (what.find("unexpected end of input") != std::string::npos ||
        what.find("missing closing quote") != std::string::npos) {
      return fail("request body is truncated JSON" + at);
    }
    if (error.id == 406) return fail("a number in the request body is out of range" + at);
    return fail("request body is not valid JSON" + at);
  }

  FlatObject take_fields() { return std::move(fields_); }
  std::optional<FlatObject> take_nested() { return std::move(nested_); }
  const std::optional<Error>& error() const { return error_; }

 private:
  bool add(JsonScalar::Kind kind, std::string text) {
    if (depth_ == 0) return fail("request body must be a JSON object");
    if (depth_ == 2) {
      nested_->emplace(std::move(key_), JsonScalar{kind, std::move(text)});
      key_.clear();
      return true;
    }
    fields_.emplace(std::move(key_), JsonScalar{kind, std::move(text)});
    key_.clear();
    return true;
  }

  bool fail(std::string message) {
    if (!error_) error_ = Error{ErrorCode::invalid_json, std::move(message)};
    return false;
  }
  bool fail_nested(std::string message) {
    if (!error_) error_ = Error{ErrorCode::invalid_metadata, std::move(message)};
    return false;
  }

  static constexpr std::size_t kMaxNestedKeyBytes = 256;  // 64 characters of up to 4 bytes
  std::string nested_key_;
  std::optional<FlatObject> nested_;
  int depth_ = 0;
  std::string key_;
  FlatObject fields_;
  std::optional<Error> error_;
};

}  // namespace

namespace {

Result<FlatObject> parse_with(FlatObjectReader& reader, std::string_view body) {
  bool blank = true;
  for (char c : body) {
    if (!is_json_space(c)) {
      blank = false;
      break;
    }
  }
  if (blank) return Error{ErrorCode::invalid_json, "request body is empty"};
  // nlohmann's lexer takes a NUL byte for the end of input and would accept "{}\0anything".
  // A raw NUL is never valid JSON text (inside strings it must be written \u0000).
  if (const std::size_t nul = body.find('\0'); nul != std::string_view::npos) {
    return Error{ErrorCode::invalid_json,
                 "request body is not valid JSON (at byte " + std::to_string(nul) + ")"};
  }

  try {
    const bool ok = Json::sax_parse(body.begin(), body.end(), &reader);
    if (!ok || reader.error()) {
      if (reader.error()) return *reader.error();
      return Error{ErrorCode::invalid_json, "request body is not valid JSON"};
    }
    return reader.take_fields();
  } catch (const std::exception&) {
    // Only allocation failure can get here; the reader itself never throws.
    return Error{ErrorCode::internal, "could not decode the request body"};
  } catch (...) {
    return Error{ErrorCode::internal, "could not decode the request body"};
  }
}

}  // namespace

Result<FlatObject> parse_flat_object(std::string_view body) {
  FlatObjectReader reader;
  return parse_with(reader, body);
}

Result<ObjectWithNested> parse_object_with_nested(std::string_view body,
                                                  std::string_view nested_key) {
  FlatObjectReader reader(nested_key);
  auto fields = parse_with(reader, body);
  if (!fields) return fields.error();
  return ObjectWithNested{std::move(fields.value()), reader.take_nested()};
}

const JsonScalar* find(const FlatObject& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &it->second;
}

}  // namespace wallet::domain
