// RateLimiter: a token bucket per client and route class (SPEC.md section 9), kept in a bounded
// table shared by every reactor thread. Pure (no Pistache): HttpServer asks it through ClientLimits
// (client_limits.hpp), the unit tests and the micro-benchmark ask it directly with their own clock.
//
// A bucket holds up to `burst` tokens and gains `per_second` tokens a second; a request takes one
// or is refused. A client seen for the first time starts with a full bucket.
//
// Memory: at most `max_clients` clients are kept (rounded down to a multiple of the 16 shards, and
// at least one per shard), each with the buckets of the three classes: about 200 bytes and its key.
// When a shard is full the client it saw least recently is forgotten. Forgetting a client whose
// buckets have refilled changes nothing (it would start full anyway); only when more clients than
// that are active within one refill period does a forgotten one come back with a full bucket.
//
// Thread safety: check() may be called from any thread. Clients are spread over 16 shards by the
// hash of their key, each behind its own mutex held for one lookup and a few arithmetic
// operations, so the reactor threads rarely wait for one another. A hit allocates nothing; a new
// client allocates its key only when the shard is not yet full (a full shard reuses the node of
// the client it forgets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/result.hpp"

namespace wallet::http {

// The classes a route falls in (client_limits.cpp's classify()); `exempt` is never limited.
enum class RouteClass : uint8_t { money = 0, reads = 1, admin = 2, exempt = 3 };
constexpr size_t kRouteClasses = 3;  // the limited ones

// "money", "reads", "admin" ("exempt" for the last).
std::string_view class_name(RouteClass route_class);

struct RateLimit {
  int64_t per_second = 0;  // tokens gained per second; 0: the class is not limited
  int64_t burst = 0;       // tokens a full bucket holds, at least 1 when limited

  bool limited() const { return per_second > 0; }
};

struct RateLimits {
  std::array<RateLimit, kRouteClasses> classes{};
  size_t max_clients = 100'000;

  bool any() const;
  const RateLimit& of(RouteClass route_class) const {
    return classes[static_cast<size_t>(route_class)];
  }
};

// Parses RATE_LIMITS: comma-separated `class=rate/burst` (or `class=rate`: burst = rate), classes
// money, reads and admin, each at most once; rate and burst whole numbers, rate 0 = unlimited,
// burst 1 to 1e9. Empty text: no limits. Whitespace around items is ignored.
domain::Result<RateLimits> parse_rate_limits(std::string_view text, size_t max_clients);

struct TokenBucket {
  double tokens = 0;
  int64_t updated_ns = 0;  // the clock reading tokens were last computed at
};

struct RateVerdict {
  bool allowed = true;
  int64_t remaining = 0;            // whole tokens left after this request
  int64_t reset_seconds = 0;        // until the bucket is full again, rounded up
  int64_t retry_after_seconds = 0;  // refused only: until a token is there, rounded up (>= 1)
};

// A full bucket of `limit`, as of `now_ns`.
TokenBucket full_bucket(const RateLimit& limit, int64_t now_ns);

// Refills `bucket` from its last update to `now_ns` (a clock that went back refills nothing) and
// takes one token if there is a whole one. `limit` must be limited().
RateVerdict take_token(TokenBucket& bucket, const RateLimit& limit, int64_t now_ns);

class RateLimiter {
 public:
  explicit RateLimiter(RateLimits limits);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  const RateLimits& limits() const { return limits_; }

  // Takes a token from `client`'s bucket of `route_class`; an unlimited class is always allowed.
  // `now_ns`: a monotonic clock in nanoseconds (steady_clock in the server).
  RateVerdict check(RouteClass route_class, std::string_view client, int64_t now_ns);

  size_t clients() const;    // clients kept now, over all shards
  size_t capacity() const;   // the most clients ever kept
  size_t forgotten() const;  // clients forgotten to make room since start

  static constexpr size_t kShards = 16;
  // The shard that keeps `client` (the unit tests pick clients that share one).
  static size_t shard_of(std::string_view client);

 private:
  struct Client {
    std::string key;
    std::array<TokenBucket, kRouteClasses> buckets;
  };
  // Cache-line aligned: two reactor threads on two shards do not share a line.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::list<Client> recent;  // front: seen most recently
    // Keys point into `recent`'s nodes, which never move.
    std::unordered_map<std::string_view, std::list<Client>::iterator> index;
    size_t forgotten = 0;
  };

  Client& find_or_add(Shard& shard, std::string_view client, int64_t now_ns);

  RateLimits limits_;
  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace wallet::http
