#include "domain/bulk_request.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/json_spans.hpp"

namespace wallet::domain {
namespace {

struct ActionRoute {
  const char* action;
  const char* path;      // with "{}" where the id goes
  const char* id_field;  // nullptr: none
};

constexpr ActionRoute kRoutes[] = {
    {"deposit", "/addMoney", nullptr},
    {"transfer", "/transferMoney", nullptr},
    {"withdrawal", "/withdrawMoney", nullptr},
    {"hold", "/holds", nullptr},
    {"capture", "/holds/{}/capture", "hold_id"},
    {"void", "/holds/{}/void", "hold_id"},
    {"transaction", "/transactions", nullptr},
    {"reverse", "/transactions/{}/reverse", "transaction_id"},
};

Error invalid(size_t index, const std::string& what) {
  return Error{ErrorCode::invalid_bulk, "operations[" + std::to_string(index) + "]: " + what};
}

// An id that goes into a path: its endpoint checks its form; here only that it is one segment.
bool is_path_segment(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string action_list() {
  std::string out;
  for (const auto& action : bulk_actions()) out += (out.empty() ? "" : ", ") + action;
  return out;
}

Result<BulkOperation> decode_operation(size_t index, const nlohmann::json& item) {
  if (!item.is_object()) return invalid(index, "an operation is a JSON object");
  for (const auto& [name, value] : item.items()) {
    if (name != "action" && name != "idempotency_key" && name != "data" && name != "hold_id" &&
        name != "transaction_id") {
      return invalid(index, "unknown field \"" + name + "\"");
    }
  }
  auto action = item.find("action");
  if (action == item.end() || !action->is_string()) {
    return invalid(index, "\"action\" is required: one of " + action_list());
  }
  const ActionRoute* route = nullptr;
  for (const auto& r : kRoutes) {
    if (action->get<std::string>() == r.action) route = &r;
  }
  if (!route) {
    return invalid(
        index, "unknown action \"" + action->get<std::string>() + "\": one of " + action_list());
  }
  BulkOperation op;
  op.action = route->action;
  auto key = item.find("idempotency_key");
  if (key == item.end() || !key->is_string() ||
      !is_valid_idempotency_key(key->get<std::string>())) {
    return invalid(index,
                   "\"idempotency_key\" is required, 1 to 255 printable ASCII characters without "
                   "spaces: a bulk answer lost on the way is only safe to retry by key");
  }
  op.idempotency_key = key->get<std::string>();
  op.path = route->path;
  for (const char* field : {"hold_id", "transaction_id"}) {
    auto id = item.find(field);
    const bool wanted = route->id_field && std::string(route->id_field) == field;
    if (!wanted && id != item.end()) {
      return invalid(index, std::string("\"") + field + "\" does not belong to " + route->action);
    }
    if (!wanted) continue;
    if (id == item.end() || !id->is_string() || !is_path_segment(id->get<std::string>())) {
      return invalid(index, std::string(route->action) + " needs \"" + field + "\"");
    }
    op.path.replace(op.path.find("{}"), 2, id->get<std::string>());
  }
  auto data = item.find("data");
  if (data != item.end() && !data->is_object()) {
    return invalid(index, "\"data\" is the JSON object its endpoint takes");
  }
  op.body = "{}";  // the client's own text of data replaces it (decode_bulk)
  return op;
}

}  // namespace

const std::vector<std::string>& bulk_actions() {
  static const std::vector<std::string> actions = [] {
    std::vector<std::string> out;
    for (const auto& r : kRoutes) out.emplace_back(r.action);
    return out;
  }();
  return actions;
}

Result<std::vector<BulkOperation>> decode_bulk(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return Error{ErrorCode::invalid_json, "the body is not valid JSON"};
  if (!parsed.is_object()) return Error{ErrorCode::invalid_bulk, "the body is a JSON object"};
  for (const auto& [name, value] : parsed.items()) {
    if (name == "atomic") {
      if (value == false) continue;
      return Error{ErrorCode::invalid_bulk,
                   "a bulk's operations are independent; for all-or-nothing postings use POST "
                   "/transactions (up to 32 postings)"};
    }
    if (name != "operations")
      return Error{ErrorCode::invalid_bulk, "unknown field \"" + name + "\""};
  }
  auto operations = parsed.find("operations");
  if (operations == parsed.end() || !operations->is_array() || operations->empty() ||
      operations->size() > kMaxBulkOperations) {
    return Error{ErrorCode::invalid_bulk, "\"operations\" is an array of 1 to " +
                                              std::to_string(kMaxBulkOperations) + " operations"};
  }
  std::vector<BulkOperation> out;
  out.reserve(operations->size());
  for (size_t i = 0; i < operations->size(); ++i) {
    auto op = decode_operation(i, (*operations)[i]);
    if (!op) return op.error();
    out.push_back(std::move(op.value()));
  }
  auto spans = member_texts(body, "operations", "data");
  if (spans.size() != out.size()) {
    return Error{ErrorCode::invalid_bulk, "the operations could not be read"};
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (!spans[i].empty()) out[i].body = std::move(spans[i]);
  }
  return out;
}

}  // namespace wallet::domain
