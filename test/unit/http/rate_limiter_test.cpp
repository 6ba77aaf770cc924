// The per-client token buckets (http/rate_limiter) and what ClientLimits builds on them (route
// classes, client identities, the RateLimit headers), with a clock of the test's own: burst,
// refill, Retry-After rounding, the bounded table and its eviction order, RATE_LIMITS parsing.
#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "http/client_limits.hpp"

namespace wallet::http {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

RateLimits money_only(int64_t per_second, int64_t burst, size_t max_clients = 1000) {
  RateLimits limits;
  limits.classes[0] = {per_second, burst};
  limits.max_clients = max_clients;
  return limits;
}

TEST(TokenBucketTest, ANewClientHasItsBurstThenIsRefused) {
  const RateLimit limit{1, 3};
  TokenBucket bucket = full_bucket(limit, 0);
  for (int64_t left = 2; left >= 0; --left) {
    const auto verdict = take_token(bucket, limit, 0);
    EXPECT_TRUE(verdict.allowed);
    EXPECT_EQ(verdict.remaining, left);
  }
  const auto refused = take_token(bucket, limit, 0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  EXPECT_EQ(refused.reset_seconds, 3);  // three tokens at one a second
}

TEST(TokenBucketTest, RefillsAtItsRateAndNoFurtherThanTheBurst) {
  const RateLimit limit{4, 2};
  TokenBucket bucket = full_bucket(limit, 0);
  take_token(bucket, limit, 0);
  take_token(bucket, limit, 0);
  EXPECT_FALSE(take_token(bucket, limit, 0).allowed);
  // A quarter of a second is one token at 4/s; less is none.
  EXPECT_FALSE(take_token(bucket, limit, kSecond / 5).allowed);
  EXPECT_TRUE(take_token(bucket, limit, kSecond / 4).allowed);
  EXPECT_FALSE(take_token(bucket, limit, kSecond / 4).allowed);
  // An hour later the bucket holds its burst, not 14 400 tokens.
  const auto later = take_token(bucket, limit, 3600 * kSecond);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 1);
  EXPECT_TRUE(take_token(bucket, limit, 3600 * kSecond).allowed);
  EXPECT_FALSE(take_token(bucket, limit, 3600 * kSecond).allowed);
}

TEST(TokenBucketTest, RetryAfterAndResetRoundUpToWholeSeconds) {
  const RateLimit limit{3, 10};
  TokenBucket bucket = full_bucket(limit, 0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(take_token(bucket, limit, 0).allowed);
  auto refused = take_token(bucket, limit, 0);
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // a third of a second, rounded up
  EXPECT_EQ(refused.reset_seconds, 4);        // ten tokens at 3/s: 3.33 s, rounded up
  // 10 ms short of a token: still 1 s, never 0 (which would invite a retry at once).
  refused = take_token(bucket, limit, kSecond / 3 - kSecond / 100);
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // An exact whole number stays itself: an empty bucket of 1/s refills in exactly 2 s.
  const RateLimit slow{1, 2};
  TokenBucket empty{0.0, 0};
  EXPECT_EQ(take_token(empty, slow, 0).reset_seconds, 2);
}

TEST(TokenBucketTest, WaitingTheRetryAfterIsEnough) {
  for (int64_t rate : {1, 3, 7, 1000}) {
    const RateLimit limit{rate, 1};
    TokenBucket bucket = full_bucket(limit, 0);
    int64_t now = 12'345;
    ASSERT_TRUE(take_token(bucket, limit, now).allowed);
    const auto refused = take_token(bucket, limit, now);
    ASSERT_FALSE(refused.allowed) << rate;
    now += refused.retry_after_seconds * kSecond;
    EXPECT_TRUE(take_token(bucket, limit, now).allowed) << rate;
  }
}

TEST(TokenBucketTest, AClockThatGoesBackRefillsNothing) {
  const RateLimit limit{1, 1};
  TokenBucket bucket = full_bucket(limit, 10 * kSecond);
  ASSERT_TRUE(take_token(bucket, limit, 10 * kSecond).allowed);
  EXPECT_FALSE(take_token(bucket, limit, 5 * kSecond).allowed);
  EXPECT_FALSE(take_token(bucket, limit, 10 * kSecond).allowed);
  EXPECT_TRUE(take_token(bucket, limit, 11 * kSecond).allowed);
}

TEST(RateLimiterTest, OneClientAtItsLimitLeavesAnotherUnaffected) {
  RateLimiter limiter(money_only(1, 2));
  EXPECT_TRUE(limiter.check(RouteClass::money, "key:a", 0).allowed);
  EXPECT_TRUE(limiter.check(RouteClass::money, "key:a", 0).allowed);
  EXPECT_FALSE(limiter.check(RouteClass::money, "key:a", 0).allowed);
  EXPECT_TRUE(limiter.check(RouteClass::money, "key:b", 0).allowed);
  EXPECT_TRUE(limiter.check(RouteClass::money, "key:b", 0).allowed);
  EXPECT_FALSE(limiter.check(RouteClass::money, "key:b", 0).allowed);
}

TEST(RateLimiterTest, ClassesHaveTheirOwnBucketsAndUnlimitedOnesKeepNoState) {
  RateLimits limits = money_only(1, 1);
  limits.classes[static_cast<size_t>(RouteClass::reads)] = {1, 2};
  RateLimiter limiter(limits);
  EXPECT_TRUE(limiter.check(RouteClass::money, "key:a", 0).allowed);
  EXPECT_FALSE(limiter.check(RouteClass::money, "key:a", 0).allowed);
  EXPECT_TRUE(limiter.check(RouteClass::reads, "key:a", 0).allowed);
  EXPECT_TRUE(limiter.check(RouteClass::reads, "key:a", 0).allowed);
  EXPECT_FALSE(limiter.check(RouteClass::reads, "key:a", 0).allowed);
  EXPECT_EQ(limiter.clients(), 1u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.check(RouteClass::admin, "key:" + std::to_string(i), 0).allowed);
    EXPECT_TRUE(limiter.check(RouteClass::exempt, "key:" + std::to_string(i), 0).allowed);
  }
  EXPECT_EQ(limiter.clients(), 1u);  // the admin class is unlimited: nobody was added
}

TEST(RateLimiterTest, KeepsAtMostItsCapacityOfClients) {
  RateLimiter limiter(money_only(1, 1, 64));
  ASSERT_EQ(limiter.capacity(), 64u);
  for (int i = 0; i < 10'000; ++i) limiter.check(RouteClass::money, "addr:" + std::to_string(i), 0);
  EXPECT_LE(limiter.clients(), 64u);
  EXPECT_EQ(limiter.clients() + limiter.forgotten(), 10'000u);
}

// Clients that land in one shard, so that the order a shard forgets them in is observable.
std::vector<std::string> clients_of_one_shard(size_t count) {
  std::vector<std::string> found;
  const size_t shard = RateLimiter::shard_of("key:0");
  for (int i = 0; found.size() < count; ++i) {
    std::string client = "key:" + std::to_string(i);
    if (RateLimiter::shard_of(client) == shard) found.push_back(client);
  }
  return found;
}

TEST(RateLimiterTest, AFullShardForgetsTheClientSeenLeastRecently) {
  const auto c = clients_of_one_shard(3);
  RateLimiter limiter(money_only(1, 1, 2 * RateLimiter::kShards));  // two clients a shard
  ASSERT_TRUE(limiter.check(RouteClass::money, c[0], 0).allowed);
  ASSERT_TRUE(limiter.check(RouteClass::money, c[1], 0).allowed);
  ASSERT_FALSE(limiter.check(RouteClass::money, c[0], 0).allowed);  // c[0] now the most recent
  ASSERT_TRUE(limiter.check(RouteClass::money, c[2], 0).allowed);   // forgets c[1]
  EXPECT_EQ(limiter.forgotten(), 1u);
  EXPECT_FALSE(limiter.check(RouteClass::money, c[0], 0).allowed);  // kept: still empty
  EXPECT_TRUE(limiter.check(RouteClass::money, c[1], 0).allowed);   // forgotten: starts full
}

// The control for the test above: with room for all three, none comes back with a full bucket.
TEST(RateLimiterTest, AShardWithRoomForgetsNobody) {
  const auto c = clients_of_one_shard(3);
  RateLimiter limiter(money_only(1, 1, 3 * RateLimiter::kShards));
  for (const auto& client : c) ASSERT_TRUE(limiter.check(RouteClass::money, client, 0).allowed);
  for (const auto& client : c) EXPECT_FALSE(limiter.check(RouteClass::money, client, 0).allowed);
  EXPECT_EQ(limiter.forgotten(), 0u);
}

TEST(RateLimiterTest, ThreadsSharingOneClientNeverGetMoreThanItsTokens) {
  RateLimiter limiter(money_only(1, 1000));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.check(RouteClass::money, "key:shared", 0).allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(RateLimitsTest, ParsesTheSpecForm) {
  auto limits = parse_rate_limits(" money=100/200, reads=1000 ,admin=0 ", 5);
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_EQ(limits->of(RouteClass::money).per_second, 100);
  EXPECT_EQ(limits->of(RouteClass::money).burst, 200);
  EXPECT_EQ(limits->of(RouteClass::reads).burst, 1000);  // no burst given: the rate
  EXPECT_FALSE(limits->of(RouteClass::admin).limited());
  EXPECT_EQ(limits->max_clients, 5u);
  EXPECT_TRUE(limits->any());
  auto none = parse_rate_limits("", 100);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->any());
  EXPECT_FALSE(parse_rate_limits("admin=0", 100)->any());
}

TEST(RateLimitsTest, RefusesWhatItCannotRead) {
  for (const char* text :
       {"money", "money=", "money=x", "money=1.5/3", "money=-1", "money=10/0", "money=1/2/3",
        "cash=1/1", "money=1,money=2", "money=1,,reads=2", "money=10000000000", "money=1/ 2x"}) {
    EXPECT_FALSE(parse_rate_limits(text, 100)) << text;
  }
  EXPECT_FALSE(parse_rate_limits("money=1/1", 0));
}

TEST(ClientLimitsTest, RoutesFallInTheirClasses) {
  EXPECT_EQ(classify("POST", "/transferMoney"), RouteClass::money);
  EXPECT_EQ(classify("POST", "/holds/{hold_id}/capture"), RouteClass::money);
  EXPECT_EQ(classify("POST", "/users"), RouteClass::money);
  EXPECT_EQ(classify("GET", "/users/{user_id}/balance"), RouteClass::reads);
  EXPECT_EQ(classify("GET", "/openapi.json"), RouteClass::reads);
  EXPECT_EQ(classify("GET", "/admin/actors"), RouteClass::admin);
  EXPECT_EQ(classify("GET", "/admin"), RouteClass::admin);
  EXPECT_EQ(classify("GET", "/administrator"), RouteClass::reads);
  EXPECT_EQ(classify("GET", "/healthz"), RouteClass::exempt);
  EXPECT_EQ(classify("GET", "/readyz"), RouteClass::exempt);
  EXPECT_EQ(classify("GET", "/metrics"), RouteClass::exempt);
}

TEST(ClientLimitsTest, TheClientIsTheVerifiedSubjectThenTheApiKeyThenTheAddress) {
  const std::string secret = "rate-limit-test-secret";
  const JwtVerifier verifier(secret);
  const auto token =
      sign_hs256(R"({"alg":"HS256","typ":"JWT"})", R"({"sub":"ada","exp":99999999999})", secret);
  const auto forged = sign_hs256(R"({"alg":"HS256","typ":"JWT"})",
                                 R"({"sub":"ada","exp":99999999999})", "another secret");
  int address_reads = 0;
  auto address = [&address_reads] {
    ++address_reads;
    return std::string("10.0.0.7");
  };
  HttpRequest request;
  request.headers["authorization"] = "Bearer " + token;
  request.headers["x-api-key"] = "k-1";
  EXPECT_EQ(client_identity(request, &verifier, address), "sub:ada");
  EXPECT_EQ(client_identity(request, nullptr, address), "key:k-1");  // no JWT auth here
  request.headers["authorization"] = "Bearer " + forged;
  EXPECT_EQ(client_identity(request, &verifier, address), "key:k-1");
  EXPECT_EQ(address_reads, 0);
  request.headers["x-api-key"] = std::string(kMaxApiKeyLength + 1, 'k');
  EXPECT_EQ(client_identity(request, &verifier, address), "addr:10.0.0.7");
  request.headers["x-api-key"] = "two words";
  EXPECT_EQ(client_identity(request, &verifier, address), "addr:10.0.0.7");
  request.headers.erase("x-api-key");
  EXPECT_EQ(client_identity(request, &verifier, address), "addr:10.0.0.7");
  EXPECT_EQ(address_reads, 3);
}

TEST(ClientLimitsTest, HeadersFollowTheDraft) {
  EXPECT_EQ(policy_header(RouteClass::money, {100, 200}), R"("money";q=100;w=1)");
  RateVerdict verdict;
  verdict.remaining = 7;
  verdict.reset_seconds = 2;
  EXPECT_EQ(state_header(RouteClass::reads, verdict), R"("reads";r=7;t=2)");
}

}  // namespace
}  // namespace wallet::http
