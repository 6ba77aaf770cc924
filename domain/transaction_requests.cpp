#include "domain/transaction_requests.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/json_fields.hpp"
#include "domain/requests.hpp"

namespace wallet::domain {
namespace {

using Json = nlohmann::json;

// A JSON number is kept as the text the client wrote, marked so that it is told apart from a
// string (money is parsed from text, never from a double).
constexpr char kNumberMark = '\x01';

class ExactNumbers : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  explicit ExactNumbers(Json& root) : json_sax_dom_parser(root, false) {}
  bool number_integer(Json::number_integer_t value) { return marked(std::to_string(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return marked(std::to_string(value)); }
  bool number_float(Json::number_float_t, const std::string& text) { return marked(text); }

 private:
  bool marked(const std::string& text) {
    std::string value = kNumberMark + text;
    return string(value);
  }
};

Result<Json> parse_exact(std::string_view body) {
  if (body.empty()) return Json::object();
  Json root;
  ExactNumbers handler(root);
  const bool ok = Json::sax_parse(body.begin(), body.end(), &handler,
                                  nlohmann::detail::input_format_t::json, false);
  if (!ok || handler.is_errored())
    return Error{ErrorCode::invalid_json, "the body is not valid JSON"};
  if (!root.is_object()) return Error{ErrorCode::invalid_json, "the body must be a JSON object"};
  return root;
}

bool is_number(const Json& value) {
  return value.is_string() && !value.get_ref<const std::string&>().empty() &&
         value.get_ref<const std::string&>().front() == kNumberMark;
}

// A scalar as the flat decoder holds it (for the metadata rules and the idempotency key).
std::optional<JsonScalar> scalar(const Json& value) {
  if (is_number(value)) {
    return JsonScalar{JsonScalar::Kind::number, value.get<std::string>().substr(1)};
  }
  if (value.is_string()) return JsonScalar{JsonScalar::Kind::string, value.get<std::string>()};
  if (value.is_boolean()) {
    return JsonScalar{JsonScalar::Kind::boolean, value.get<bool>() ? "true" : "false"};
  }
  if (value.is_null()) return JsonScalar{JsonScalar::Kind::null, "null"};
  return std::nullopt;
}

Result<std::string> side(const Json& posting, const char* name, size_t index) {
  const std::string where = "postings[" + std::to_string(index) + "]." + name;
  auto it = posting.find(name);
  if (it == posting.end()) return Error{ErrorCode::invalid_account_id, where + " is required"};
  if (!it->is_string() || is_number(*it)) {
    return Error{ErrorCode::invalid_account_id, where + " must be a string"};
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text == kWorldAccount) return text;
  auto id = normalize_uuid(text);
  if (!id) return Error{ErrorCode::invalid_account_id, where + " must be an account id or @world"};
  return *id;
}

Result<PostingRequest> posting(const Json& item, size_t index) {
  const std::string where = "postings[" + std::to_string(index) + "]";
  if (!item.is_object()) return Error{ErrorCode::invalid_postings, where + " must be an object"};
  PostingRequest p;
  auto from = side(item, "from", index);
  if (!from) return from.error();
  auto to = side(item, "to", index);
  if (!to) return to.error();
  p.from = std::move(from.value());
  p.to = std::move(to.value());
  if (p.from == p.to) {
    if (p.from == kWorldAccount) {
      return Error{ErrorCode::invalid_postings, where + " moves money from @world to @world"};
    }
    return Error{ErrorCode::same_account, where + " has the same account on both sides"};
  }
  auto currency = item.find("currency");
  if (currency == item.end() || !currency->is_string() || is_number(*currency)) {
    return Error{ErrorCode::invalid_currency, where + ".currency is required (a currency code)"};
  }
  const auto* known = configured_currencies().find(currency->get<std::string>());
  if (!known) {
    return Error{ErrorCode::invalid_currency,
                 where + ".currency is not a configured currency (GET /currencies)"};
  }
  p.currency = known->code;
  p.exponent = known->exponent;
  auto amount = item.find("amount");
  if (amount == item.end() || !amount->is_string()) {
    return Error{ErrorCode::invalid_amount, where + ".amount must be a decimal string or number"};
  }
  std::string text = amount->get<std::string>();
  if (is_number(*amount)) text.erase(0, 1);
  auto written = parse_amount(text, p.exponent);
  if (!written)
    return Error{ErrorCode::invalid_amount, where + ".amount: " + written.error().message};
  auto minor = written->to_minor(p.exponent);
  if (!minor) return Error{ErrorCode::invalid_amount, where + ".amount: " + minor.error().message};
  p.amount = *minor;
  return p;
}

Result<std::optional<std::string>> key_of(const Json& body,
                                          const std::optional<std::string>& header_key) {
  FlatObject fields;
  if (auto it = body.find("idempotency_key"); it != body.end()) {
    auto value = scalar(*it);
    if (!value)
      return Error{ErrorCode::invalid_idempotency_key, "idempotency_key must be a string"};
    fields.emplace("idempotency_key", std::move(*value));
  }
  return request_idempotency_key(fields, header_key);
}

Result<std::string> metadata_of(const Json& body) {
  auto it = body.find("metadata");
  if (it == body.end()) return std::string("{}");
  if (!it->is_object()) return Error{ErrorCode::invalid_metadata, "metadata must be a JSON object"};
  FlatObject object;
  for (const auto& [key, value] : it->items()) {
    auto converted = scalar(value);
    if (!converted) {
      return Error{ErrorCode::invalid_metadata,
                   "metadata value of \"" + key + "\" must be a string"};
    }
    // Postgres's jsonb cannot hold \u0000: refused here, not as a failed commit.
    if (key.find('\0') != std::string::npos || converted->text.find('\0') != std::string::npos) {
      return Error{ErrorCode::invalid_metadata, "metadata holds a NUL character (\\u0000)"};
    }
    object.emplace(key, std::move(*converted));
  }
  return checked_metadata(object);
}

// 1..128 printable characters (no control characters).
Result<std::optional<std::string>> reference_of(const Json& body) {
  auto it = body.find("reference");
  if (it == body.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string() || is_number(*it)) {
    return Error{ErrorCode::invalid_reference, "reference must be a string"};
  }
  const auto& text = it->get_ref<const std::string&>();
  size_t characters = 0;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Error{ErrorCode::invalid_reference, "reference holds a control character"};
    }
    characters += (c & 0xC0) != 0x80;
  }
  if (characters == 0 || characters > kMaxReferenceCharacters) {
    return Error{ErrorCode::invalid_reference, "reference is 1 to 128 characters"};
  }
  return std::optional<std::string>{text};
}

}  // namespace

Result<TransactionRequest> decode_transaction(std::string_view body,
                                              const std::optional<std::string>& header_key) {
  if (body.empty()) return Error{ErrorCode::invalid_json, "the body must be a JSON object"};
  auto parsed = parse_exact(body);
  if (!parsed) return parsed.error();
  const Json& root = parsed.value();
  TransactionRequest request;
  auto postings = root.find("postings");
  if (postings == root.end() || !postings->is_array() || postings->empty() ||
      postings->size() > kMaxPostings) {
    return Error{ErrorCode::invalid_postings, "postings must be an array of 1 to 32 postings"};
  }
  for (size_t i = 0; i < postings->size(); ++i) {
    auto p = posting((*postings)[i], i);
    if (!p) return p.error();
    request.postings.push_back(std::move(p.value()));
  }
  auto metadata = metadata_of(root);
  if (!metadata) return metadata.error();
  request.metadata = std::move(metadata.value());
  auto reference = reference_of(root);
  if (!reference) return reference.error();
  request.reference = std::move(reference.value());
  auto key = key_of(root, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

Result<ReversalRequest> decode_reversal(std::string_view body,
                                        const std::optional<std::string>& header_key) {
  auto parsed = parse_exact(body);
  if (!parsed) return parsed.error();
  const Json& root = parsed.value();
  ReversalRequest request;
  if (auto it = root.find("amount"); it != root.end()) {
    if (!it->is_string()) {
      return Error{ErrorCode::invalid_amount, "amount must be a decimal string or number"};
    }
    std::string text = it->get<std::string>();
    if (is_number(*it)) text.erase(0, 1);
    auto written = parse_amount(text, configured_currencies().max_exponent());
    if (!written) {
      return Error{ErrorCode::invalid_amount,
                   "amount must be a decimal greater than 0, with at most as many fractional "
                   "digits as the transaction's currency"};
    }
    request.amount = written.value();
  }
  auto key = key_of(root, header_key);
  if (!key) return key.error();
  request.idempotency_key = std::move(key.value());
  return request;
}

std::string postings_json(const std::vector<PostingRequest>& postings) {
  Json list = Json::array();
  for (const auto& p : postings) {
    list.push_back({{"from", p.from},
                    {"to", p.to},
                    {"amount", format_minor(p.amount, p.exponent)},
                    {"currency", p.currency}});
  }
  return list.dump();
}

std::string canonical_transaction(const TransactionRequest& request) {
  return postings_json(request.postings) + '|' + request.metadata + '|' +
         (request.reference ? "r:" + *request.reference : std::string("-"));
}

std::string canonical_reversal(const std::string& transaction_id, const ReversalRequest& request) {
  return transaction_id + '|' + (request.amount ? request.amount->canonical() : std::string("all"));
}

}  // namespace wallet::domain
