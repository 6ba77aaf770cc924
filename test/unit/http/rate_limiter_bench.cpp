// wallet-rate-limit-bench: what the per-client rate limiter costs per request, in nanoseconds, on
// this machine. Measures the pieces HttpServer runs before a handler: with RATE_LIMITS empty
// (the server's only cost is a null check, measured as such), and with limits high enough never
// to refuse: the bucket alone (one client; many clients that keep the table full and churning),
// the whole admission (class, X-Api-Key or JWT identity, bucket, RateLimit header texts), and two
// threads on one client (one shard's mutex contended) or on clients of their own.
//
//   build/bin/wallet-rate-limit-bench [iterations, default 2000000]
// (built with the unit tests; ctest runs it once, briefly, as RateLimiterBenchRuns)
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/client_limits.hpp"
#include "http/jwt.hpp"

using namespace wallet::http;
using Clock = std::chrono::steady_clock;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Runs `step(i)` `iterations` times on each of `threads` threads; prints and returns ns per step
// (wall time over the steps of one thread).
double measure(const char* name, long iterations, int threads,
               const std::function<void(long)>& step) {
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  std::vector<double> ns(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ++ready;
      while (ready.load() < threads) {
      }
      const auto start = Clock::now();
      for (long i = 0; i < iterations; ++i) step(i + t * iterations);
      ns[static_cast<size_t>(t)] =
          std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
    });
  }
  for (auto& worker : workers) worker.join();
  double worst = 0;
  for (double value : ns) worst = std::max(worst, value);
  std::printf("%-58s %8.1f ns/request\n", name, worst);
  return worst;
}

RateLimits never_refusing() {
  auto limits =
      parse_rate_limits("money=1000000000/1000000000,reads=1000000000/1000000000", 100'000);
  if (!limits) std::abort();
  return *limits;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::off);  // the Responders below answer into nowhere
  const long iterations = argc > 1 ? std::atol(argv[1]) : 2'000'000;
  Metrics metrics;
  std::printf("wallet-rate-limit-bench: %ld iterations per thread\n", iterations);

  // Unconfigured: HttpServer holds no ClientLimits and tests the pointer once per request.
  std::unique_ptr<ClientLimits> none;
  volatile long admitted = 0;
  measure("RATE_LIMITS empty (the server's null check)", iterations, 1, [&](long) {
    if (!none) admitted = admitted + 1;
  });

  RateLimiter limiter(never_refusing());
  measure("bucket: one client", iterations, 1,
          [&](long) { limiter.check(RouteClass::money, "key:client-0", now_ns()); });
  std::vector<std::string> many;
  for (int i = 0; i < 200'000; ++i) many.push_back("addr:10.0." + std::to_string(i));
  measure("bucket: 200k clients round robin (table full, LRU churn)", iterations, 1, [&](long i) {
    limiter.check(RouteClass::money, many[static_cast<size_t>(i) % many.size()], now_ns());
  });
  measure("bucket: 2 threads, one client (one shard contended)", iterations, 2,
          [&](long) { limiter.check(RouteClass::money, "key:client-0", now_ns()); });
  measure("bucket: 2 threads, a client each", iterations, 2, [&](long i) {
    limiter.check(RouteClass::money, i < iterations ? "key:client-a" : "key:client-b", now_ns());
  });

  // The whole admission HttpServer runs for a limited class, headers included.
  const std::string secret = "bench-secret";
  ClientLimits by_key(never_refusing(), "", metrics);
  ClientLimits by_subject(never_refusing(), secret, metrics);
  Route route{"POST", "/transferMoney", nullptr};
  HttpRequest keyed;
  keyed.headers["x-api-key"] = "client-0";
  HttpRequest signed_request;
  signed_request.headers["authorization"] =
      "Bearer " + sign_hs256(R"({"alg":"HS256","typ":"JWT"})",
                             R"({"sub":"6c0a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b","exp":99999999999})",
                             secret);
  const HttpRequest anonymous;
  auto address = [] { return std::string("127.0.0.1"); };
  Responder responder(ReplyTarget{}, "bench", "POST", "/transferMoney", nullptr);
  measure("admit: X-Api-Key client (class, identity, bucket, headers)", iterations, 1,
          [&](long) { by_key.admit(keyed, route, address, responder); });
  measure("admit: remote address client", iterations, 1,
          [&](long) { by_key.admit(anonymous, route, address, responder); });
  measure("admit: JWT subject client (HS256 verified once more)", iterations / 10, 1,
          [&](long) { by_subject.admit(signed_request, route, address, responder); });
  responder.send(200, "{}");
  std::printf("clients kept: %zu of at most %zu\n", limiter.clients(), limiter.capacity());
  return 0;
}
