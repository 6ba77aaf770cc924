// HttpServer with per-client rate limits, on loopback (hermetic: no Postgres, Kafka or NATS):
// a limited request is answered 429 before its handler runs, with Retry-After and the RateLimit
// headers; clients and classes do not share buckets; probes are never limited; a client named by
// a verified JWT is limited as its subject. The control: without RATE_LIMITS nothing is limited
// and no RateLimit header is sent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "http/jwt.hpp"
#include "http/server.hpp"
#include "test/support/http_client.hpp"

namespace wallet::http {
namespace {

using test::HttpClient;
using test::HttpHeaders;

Metrics& process_metrics() {
  static Metrics* metrics = new Metrics;  // answers may come until exit
  return *metrics;
}

// A server whose routes count the requests that reached them.
struct CountingServer {
  explicit CountingServer(const std::string& rate_limits, const std::string& jwt_secret = "") {
    Router router;
    auto count = [this](const HttpRequest&, ResponderPtr responder) {
      ++handled;
      responder->send(200, R"({"ok":true})");
    };
    router.add("POST", "/transferMoney", count);
    router.add("GET", "/users/{user_id}/balance", count);
    router.add("GET", "/admin/actors", count);
    router.add("GET", "/healthz", count);
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    auto limits = parse_rate_limits(rate_limits, 1000);
    EXPECT_TRUE(limits) << limits.error().message;
    options.rate_limits = *limits;
    options.jwt_secret = jwt_secret;
    server = std::make_unique<HttpServer>(options, std::move(router), process_metrics());
    server->start();
  }
  ~CountingServer() { server->stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  std::atomic<int> handled{0};
  std::unique_ptr<HttpServer> server;
};

HttpHeaders key(const std::string& name) { return {{"X-Api-Key", name}}; }

TEST(RateLimitServerTest, AClientOverItsLimitGets429WithHeadersAndItsHandlerNeverRuns) {
  CountingServer server("money=1/2");
  HttpClient client(server.url());
  for (int left = 1; left >= 0; --left) {
    auto allowed = client.post("/transferMoney", "{}", key("a"));
    EXPECT_EQ(allowed.status, 200) << allowed.body;
    EXPECT_EQ(allowed.headers["ratelimit-policy"], R"("money";q=1;w=1)");
    EXPECT_EQ(allowed.headers["ratelimit"],
              "\"money\";r=" + std::to_string(left) + ";t=" + std::to_string(2 - left));
    EXPECT_EQ(allowed.headers.count("retry-after"), 0u);
  }
  auto refused = client.post("/transferMoney", "{}", key("a"));
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.error_code(), "rate_limited");
  EXPECT_TRUE(refused.json()["error"]["message"].is_string());
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_EQ(refused.headers["ratelimit-policy"], R"("money";q=1;w=1)");
  EXPECT_TRUE(std::regex_match(refused.headers["ratelimit"], std::regex(R"("money";r=0;t=[12])")))
      << refused.headers["ratelimit"];
  EXPECT_FALSE(refused.headers["x-request-id"].empty());
  EXPECT_EQ(server.handled.load(), 2);

  // Another client, another class and the probes are not affected.
  EXPECT_EQ(client.post("/transferMoney", "{}", key("b")).status, 200);
  EXPECT_EQ(client.get("/users/u/balance", key("a")).status, 200);
  EXPECT_EQ(client.get("/admin/actors", key("a")).status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.get("/healthz", key("a")).status, 200);
  EXPECT_EQ(client.get("/users/u/balance", key("a")).headers.count("ratelimit"), 0u);

  // After the wait it asked for, the client is served again.
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(refused.headers["retry-after"])));
  EXPECT_EQ(client.post("/transferMoney", "{}", key("a")).status, 200);
}

TEST(RateLimitServerTest, WithoutAnApiKeyTheAddressIsTheClient) {
  CountingServer server("reads=1/3");
  HttpClient client(server.url());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.get("/users/u/balance").status, 200);
  EXPECT_EQ(client.get("/users/u/balance").status, 429);
  EXPECT_EQ(client.get("/users/u/balance", key("k")).status, 200);
  EXPECT_EQ(server.handled.load(), 4);
}

TEST(RateLimitServerTest, AVerifiedJwtSubjectIsTheClientWhateverItsKey) {
  const std::string secret = "server-test-secret";
  CountingServer server("money=1/1", secret);
  HttpClient client(server.url());
  auto bearer = [&secret](const std::string& subject, const std::string& api_key) {
    const auto jwt = sign_hs256(R"({"alg":"HS256","typ":"JWT"})",
                                R"({"sub":")" + subject + R"(","exp":99999999999})", secret);
    return HttpHeaders{{"Authorization", "Bearer " + jwt}, {"X-Api-Key", api_key}};
  };
  EXPECT_EQ(client.post("/transferMoney", "{}", bearer("ada", "k1")).status, 200);
  EXPECT_EQ(client.post("/transferMoney", "{}", bearer("ada", "k2")).status, 429);
  EXPECT_EQ(client.post("/transferMoney", "{}", bearer("bob", "k1")).status, 200);
}

// The control: no RATE_LIMITS, no limit and no RateLimit header, however fast one client asks.
TEST(RateLimitServerTest, WithoutRateLimitsNothingIsLimited) {
  CountingServer server("");
  HttpClient client(server.url());
  for (int i = 0; i < 50; ++i) {
    const auto response = client.post("/transferMoney", "{}", key("a"));
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.headers.count("ratelimit"), 0u);
    EXPECT_EQ(response.headers.count("ratelimit-policy"), 0u);
  }
  EXPECT_EQ(server.handled.load(), 50);
}

}  // namespace
}  // namespace wallet::http
