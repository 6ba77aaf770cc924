#include "domain/user_created_event.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"

namespace wallet::domain {
namespace {

bool digits(std::string_view text, size_t at, size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return (month == 2 && leap) ? 29 : kDays[month - 1];
}

}  // namespace

bool is_rfc3339_timestamp(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return false;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t at = 19;
  if (text[at] == '.') {
    const size_t start = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == start) return false;
  }
  if (at >= text.size()) return false;
  if (text[at] == 'Z' || text[at] == 'z') return at + 1 == text.size();
  if (text[at] != '+' && text[at] != '-') return false;
  int offset_hour, offset_minute;
  return at + 6 == text.size() && digits(text, at + 1, 2, offset_hour) && text[at + 3] == ':' &&
         digits(text, at + 4, 2, offset_minute) && offset_hour <= 23 && offset_minute <= 59;
}

std::string format_utc_timestamp(std::chrono::system_clock::time_point at) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  long fraction = static_cast<long>(micros % 1'000'000);
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
  return text;
}

std::string encode_user_created(const UserCreatedEvent& event) {
  return nlohmann::json{{"event_id", event.event_id},
                        {"user_id", event.user_id},
                        {"email", event.email},
                        {"created_at", event.created_at}}
      .dump();
}

Result<UserCreatedEvent> decode_user_created(std::string_view value) {
  auto json = nlohmann::json::parse(value.begin(), value.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Error{ErrorCode::invalid_json, "the value is not a JSON object"};
  }
  auto id = json.find("user_id");
  if (id == json.end() || !id->is_string()) {
    return Error{ErrorCode::invalid_user_id, "user_id is missing or not a string"};
  }
  auto user_id = normalize_uuid(id->get<std::string>());
  if (!user_id) return Error{ErrorCode::invalid_user_id, "user_id is not a UUID"};
  UserCreatedEvent event;
  event.user_id = *user_id;
  auto created = json.find("created_at");
  if (created != json.end()) {
    if (!created->is_string() || !is_rfc3339_timestamp(created->get<std::string>())) {
      return Error{ErrorCode::invalid_json, "created_at is not an RFC 3339 timestamp"};
    }
    event.created_at = created->get<std::string>();
  }
  return event;
}

}  // namespace wallet::domain
