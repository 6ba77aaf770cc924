// The query parameters of the ledger's queries: RFC 3339 instants and ranges, limits, the opaque
// cursor of GET /transactions, and its reference and metadata filters, each checked so that a 400
// names the parameter at fault.
#include <algorithm>
#include <charconv>
#include <set>

#include "domain/ids.hpp"
#include "domain/requests.hpp"
#include "domain/transaction_requests.hpp"
#include "domain/user_created_event.hpp"
#include "http/history_cursor.hpp"
#include "http/jwt.hpp"
#include "http/query_params_internal.hpp"
#include "http/transactions_api.hpp"

namespace wallet::http::query_params {
namespace {

using actors::TimeRange;
using actors::TransactionCursor;
using Code = domain::ErrorCode;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;
constexpr std::string_view kMetadataPrefix = "metadata.";

}  // namespace

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + doe - 719'468;
}

// RFC 3339 text as microseconds since the epoch (Postgres' resolution). Finer digits round down,
// or up with `round_up`, so that a bound compares with stored instants exactly as the instant
// written does. A blank before the offset is read as '+': an unencoded '+' in a query string
// arrives as a blank. nullopt: not RFC 3339, or outside years 1 to 9999.
std::optional<int64_t> parse_instant(std::string text, bool round_up) {
  size_t at = 19;
  if (text.size() > at && text[at] == '.') {
    while (++at < text.size() && text[at] >= '0' && text[at] <= '9') {
    }
  }
  if (at < text.size() && text[at] == ' ') text[at] = '+';
  if (!domain::is_rfc3339_timestamp(text)) return std::nullopt;
  auto number = [&text](size_t from, size_t count) {
    int64_t value = 0;
    for (size_t i = from; i < from + count; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  int64_t seconds = days_from_civil(number(0, 4), number(5, 2), number(8, 2)) * 86'400 +
                    number(11, 2) * 3'600 + number(14, 2) * 60 + number(17, 2);
  int64_t micros = 0;
  int digits = 0;
  bool finer = false;
  at = 19;
  if (text[at] == '.') {
    for (++at; text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      if (digits < 6) micros = micros * 10 + (text[at] - '0');
      finer = finer || (digits >= 6 && text[at] != '0');
    }
  }
  for (; digits < 6; ++digits) micros *= 10;
  if (text[at] == '+' || text[at] == '-') {
    const int64_t offset = number(at + 1, 2) * 3'600 + number(at + 4, 2) * 60;
    seconds -= text[at] == '+' ? offset : -offset;
  }
  const int64_t instant = seconds * 1'000'000 + micros + (round_up && finer ? 1 : 0);
  if (instant < actors::kEarliestInstantUs || instant > actors::kLatestInstantUs) {
    return std::nullopt;
  }
  return instant;
}

// `from` (inclusive) and `to` (exclusive) of a query; both round up (created_at >= from and
// created_at < to hold for a stored microsecond exactly when they hold for the instant written).
domain::Result<TimeRange> decode_range(const HttpRequest& request) {
  TimeRange range;
  for (const auto& [name, bound] : {std::pair{"from", &range.from_us}, {"to", &range.to_us}}) {
    auto text = request.query_value(name);
    if (!text) continue;
    *bound = parse_instant(*text, true);
    if (!*bound) {
      return domain::Error{Code::invalid_time, std::string(name) + kInstantRule};
    }
  }
  if (range.from_us && range.to_us && *range.from_us > *range.to_us) {
    return domain::Error{Code::invalid_time, "from must not be after to"};
  }
  return range;
}

domain::Result<int> decode_limit(const HttpRequest& request) {
  int limit = kDefaultLimit;
  if (auto text = request.query_value("limit")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > kMaxLimit) {
      return domain::Error{Code::invalid_limit, "limit must be an integer from 1 to 1000"};
    }
  }
  return limit;
}

// A decimal int64 written canonically (to_string's text), so that each cursor has one encoding.
std::optional<int64_t> canonical_integer(std::string_view digits) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (std::to_string(value) != digits) return std::nullopt;
  return value;
}

// The opaque cursor of GET /transactions: base64url (no padding) of "v1:a:<seq>" (by account) or
// "v1:r:<created_at in µs>:<transaction_id>" (by reference or metadata), versioned as history's
// (http/history_cursor.hpp). Clients must not build or read it.
std::string encode_cursor(const TransactionCursor& cursor) {
  return base64url_encode(cursor.by_record ? "v1:r:" + std::to_string(cursor.created_us) + ":" +
                                                 cursor.transaction_id
                                           : "v1:a:" + std::to_string(cursor.seq));
}

std::optional<TransactionCursor> decode_cursor(std::string_view text) {
  if (text.empty() || text.size() > 128) return std::nullopt;
  const auto plain = base64url_decode(text);
  if (!plain || plain->size() < 6 || plain->compare(0, 3, "v1:") != 0) return std::nullopt;
  const std::string_view rest = std::string_view(*plain).substr(5);
  TransactionCursor cursor;
  cursor.by_record = plain->compare(0, 5, "v1:r:") == 0;
  if (!cursor.by_record) {
    auto seq = canonical_integer(rest);
    if (plain->compare(0, 5, "v1:a:") != 0 || !seq || *seq <= 0) return std::nullopt;
    cursor.seq = *seq;
    return cursor;
  }
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto created = canonical_integer(rest.substr(0, colon));
  auto id = domain::normalize_uuid(rest.substr(colon + 1));
  if (!created || !id || *id != rest.substr(colon + 1)) return std::nullopt;
  if (*created < actors::kEarliestInstantUs || *created > actors::kLatestInstantUs) {
    return std::nullopt;
  }
  cursor.created_us = *created;
  cursor.transaction_id = *id;
  return cursor;
}

// Query strings are percent-decoded bytes: what reaches Postgres as text must be UTF-8 (and
// without NUL, which neither text nor jsonb holds).
bool is_text(std::string_view bytes) {
  static constexpr uint32_t kLeast[] = {0, 0x80, 0x800, 0x10000};  // by continuation bytes
  for (size_t i = 0; i < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead == 0) return false;
    size_t extra = 0;
    if (lead >= 0x80) {
      if ((lead >> 5) == 0x6) {
        extra = 1;
      } else if ((lead >> 4) == 0xE) {
        extra = 2;
      } else if ((lead >> 3) == 0x1E) {
        extra = 3;
      } else {
        return false;
      }
      if (i + extra >= bytes.size()) return false;
    }
    uint32_t point = extra == 0 ? lead : lead & (0x3Fu >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      if ((next >> 6) != 0x2) return false;
      point = (point << 6) | (next & 0x3Fu);
    }
    if (point < kLeast[extra] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// The reference filter: as POST /transactions takes it, 1..128 printable characters.
domain::Result<std::string> decode_reference(const std::string& text) {
  size_t characters = 0;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return domain::Error{Code::invalid_reference, "reference holds a control character"};
    }
    characters += (c & 0xC0) != 0x80;
  }
  if (!is_text(text) || characters == 0 || characters > domain::kMaxReferenceCharacters) {
    return domain::Error{Code::invalid_reference, "reference is 1 to 128 characters of UTF-8"};
  }
  return text;
}

// metadata.<key>=<value> filters as one JSON object the transaction's metadata must contain,
// checked by the rules of stored metadata (a filter beyond them could match nothing).
domain::Result<std::optional<std::string>> decode_metadata(const HttpRequest& request) {
  domain::FlatObject wanted;
  for (const auto& [name, value] : request.query) {
    if (name.compare(0, kMetadataPrefix.size(), kMetadataPrefix) != 0) continue;
    const std::string key = name.substr(kMetadataPrefix.size());
    if (!is_text(key) || !is_text(value)) {
      return domain::Error{Code::invalid_metadata, "a metadata filter must be UTF-8 text"};
    }
    wanted.emplace(key, domain::JsonScalar{domain::JsonScalar::Kind::string, value});
  }
  if (wanted.empty()) return std::optional<std::string>{};
  auto checked = domain::checked_metadata(wanted);
  if (!checked) return checked.error();
  return std::optional<std::string>{std::move(checked.value())};
}

// Any other parameter is refused: a misspelt filter would otherwise widen the answer silently.
domain::Result<bool> known_parameters(const HttpRequest& request) {
  static const std::set<std::string> kKnown{"account_id", "reference", "from",
                                            "to",         "limit",     "before"};
  for (const auto& [name, value] : request.query) {
    if (kKnown.count(name) || name.compare(0, kMetadataPrefix.size(), kMetadataPrefix) == 0) {
      continue;
    }
    const bool plain = name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
                         return c > 0x20 && c < 0x7f;
                       });
    return domain::Error{Code::invalid_filter,
                         "unknown query parameter" + (plain ? " " + name : std::string()) +
                             "; filters: account_id, reference, metadata.<key>, from, to"};
  }
  return true;
}

domain::Result<actors::TransactionQuery> decode_transaction_query(const HttpRequest& request) {
  if (auto known = known_parameters(request); !known) return known.error();
  actors::TransactionQuery query;
  if (auto text = request.query_value("account_id")) {
    query.account_id = domain::normalize_uuid(*text);
    if (!query.account_id)
      return domain::Error{Code::invalid_account_id, "account_id must be a UUID"};
  }
  if (auto text = request.query_value("reference")) {
    auto reference = decode_reference(*text);
    if (!reference) return reference.error();
    query.reference = std::move(reference.value());
  }
  auto metadata = decode_metadata(request);
  if (!metadata) return metadata.error();
  query.metadata = std::move(metadata.value());
  if (!query.account_id && !query.reference && !query.metadata) {
    return domain::Error{Code::invalid_filter,
                         "give at least one of account_id, reference or metadata.<key>=<value>"};
  }
  auto range = decode_range(request);
  if (!range) return range.error();
  query.range = range.value();
  auto limit = decode_limit(request);
  if (!limit) return limit.error();
  query.limit = limit.value();
  if (auto text = request.query_value("before")) {
    query.before = decode_cursor(*text);
    if (!query.before || query.before->by_record != actors::by_record(query)) {
      return domain::Error{Code::invalid_cursor,
                           "before must be a next_cursor returned for these filters"};
    }
  }
  return query;
}

}  // namespace wallet::http::query_params
