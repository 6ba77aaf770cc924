#include "http/rate_limiter.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <iterator>
#include <random>

namespace wallet::http {

namespace {

// Refill is computed in floating point: a client that waits exactly the Retry-After it was given
// must find its token there, so "a whole token" tolerates the last bits of rounding.
constexpr double kEpsilon = 1e-9;
constexpr int64_t kMaxLimit = 1'000'000'000;

// Seconds, rounded up; an exact whole number stays itself despite rounding noise.
int64_t ceil_seconds(double seconds) {
  if (seconds <= kEpsilon) return 0;
  return static_cast<int64_t>(std::ceil(seconds - kEpsilon));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool parse_whole(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out >= 0 && out <= kMaxLimit;
}

domain::Error invalid(std::string_view item, const char* why) {
  return {domain::ErrorCode::bad_request,
          "RATE_LIMITS: '" + std::string(item) + "': " + std::string(why)};
}

// One `class=rate/burst` item into `limits`.
std::optional<domain::Error> parse_item(std::string_view item, RateLimits& limits,
                                        std::array<bool, kRouteClasses>& seen) {
  const auto equals = item.find('=');
  if (equals == std::string_view::npos) return invalid(item, "expected class=rate/burst");
  const auto name = trim(item.substr(0, equals));
  const auto value = trim(item.substr(equals + 1));
  size_t index = kRouteClasses;
  for (size_t i = 0; i < kRouteClasses; ++i) {
    if (name == class_name(static_cast<RouteClass>(i))) index = i;
  }
  if (index == kRouteClasses) return invalid(item, "the class is money, reads or admin");
  if (seen[index]) return invalid(item, "the class is given twice");
  seen[index] = true;
  const auto slash = value.find('/');
  RateLimit limit;
  if (!parse_whole(value.substr(0, slash), limit.per_second)) {
    return invalid(item, "the rate is a whole number of requests per second, 0 to 1e9");
  }
  limit.burst = limit.per_second;
  if (slash != std::string_view::npos && !parse_whole(value.substr(slash + 1), limit.burst)) {
    return invalid(item, "the burst is a whole number of requests, 1 to 1e9");
  }
  if (limit.limited() && limit.burst < 1) return invalid(item, "the burst is at least 1");
  if (!limit.limited()) limit.burst = 0;
  limits.classes[index] = limit;
  return std::nullopt;
}

}  // namespace

std::string_view class_name(RouteClass route_class) {
  switch (route_class) {
    case RouteClass::money:
      return "money";
    case RouteClass::reads:
      return "reads";
    case RouteClass::admin:
      return "admin";
    case RouteClass::exempt:
      break;
  }
  return "exempt";
}

bool RateLimits::any() const {
  return std::any_of(classes.begin(), classes.end(),
                     [](const RateLimit& limit) { return limit.limited(); });
}

domain::Result<RateLimits> parse_rate_limits(std::string_view text, size_t max_clients) {
  RateLimits limits;
  limits.max_clients = max_clients;
  std::array<bool, kRouteClasses> seen{};
  text = trim(text);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (auto error = parse_item(item, limits, seen)) return *error;
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  if (limits.any() && max_clients < 1) {
    return domain::Error{domain::ErrorCode::bad_request, "RATE_LIMIT_CLIENTS must be at least 1"};
  }
  return limits;
}

TokenBucket full_bucket(const RateLimit& limit, int64_t now_ns) {
  return {static_cast<double>(limit.burst), now_ns};
}

RateVerdict take_token(TokenBucket& bucket, const RateLimit& limit, int64_t now_ns) {
  const double rate = static_cast<double>(limit.per_second);
  const double burst = static_cast<double>(limit.burst);
  if (now_ns > bucket.updated_ns) {
    const double gained = static_cast<double>(now_ns - bucket.updated_ns) * 1e-9 * rate;
    bucket.tokens = std::min(burst, bucket.tokens + gained);
    bucket.updated_ns = now_ns;
  }
  RateVerdict verdict;
  verdict.allowed = bucket.tokens >= 1.0 - kEpsilon;
  if (verdict.allowed) {
    bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  } else {
    verdict.retry_after_seconds = std::max<int64_t>(1, ceil_seconds((1.0 - bucket.tokens) / rate));
  }
  verdict.remaining = static_cast<int64_t>(std::floor(bucket.tokens + kEpsilon));
  verdict.reset_seconds = ceil_seconds((burst - bucket.tokens) / rate);
  return verdict;
}

RateLimiter::RateLimiter(RateLimits limits)
    : limits_(limits), per_shard_(std::max<size_t>(1, limits.max_clients / kShards)) {}

RateVerdict RateLimiter::check(RouteClass route_class, std::string_view client, int64_t now_ns) {
  if (route_class == RouteClass::exempt) return {};
  const RateLimit& limit = limits_.of(route_class);
  if (!limit.limited()) return {};
  Shard& shard = shards_[shard_of(client)];
  std::lock_guard<std::mutex> lock(shard.mutex);
  Client& entry = find_or_add(shard, client, now_ns);
  return take_token(entry.buckets[static_cast<size_t>(route_class)], limit, now_ns);
}

size_t RateLimiter::shard_of(std::string_view client) {
  // Mixed with a seed drawn at start: a client choosing its keys cannot aim them all at one shard.
  static const uint64_t seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  const uint64_t hash = (std::hash<std::string_view>{}(client) ^ seed) * 0x9e3779b97f4a7c15ULL;
  return static_cast<size_t>(hash >> 32) % kShards;
}

// Under the shard's mutex.
RateLimiter::Client& RateLimiter::find_or_add(Shard& shard, std::string_view client,
                                              int64_t now_ns) {
  if (auto found = shard.index.find(client); found != shard.index.end()) {
    shard.recent.splice(shard.recent.begin(), shard.recent, found->second);
    return *found->second;
  }
  if (shard.index.size() >= per_shard_) {
    // Full: forget the client seen least recently and reuse its node. Its index entry goes first:
    // the entry's key points into the node's key, which is about to change.
    auto last = std::prev(shard.recent.end());
    shard.index.erase(std::string_view(last->key));
    shard.recent.splice(shard.recent.begin(), shard.recent, last);
    ++shard.forgotten;
  } else {
    shard.recent.emplace_front();
  }
  Client& fresh = shard.recent.front();
  fresh.key.assign(client.data(), client.size());
  for (size_t i = 0; i < kRouteClasses; ++i) {
    fresh.buckets[i] = full_bucket(limits_.classes[i], now_ns);
  }
  shard.index.emplace(std::string_view(fresh.key), shard.recent.begin());
  return fresh;
}

size_t RateLimiter::clients() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    total += shard.index.size();
  }
  return total;
}

size_t RateLimiter::capacity() const { return per_shard_ * kShards; }

size_t RateLimiter::forgotten() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    total += shard.forgotten;
  }
  return total;
}

}  // namespace wallet::http
