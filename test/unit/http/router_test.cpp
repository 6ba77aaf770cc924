// Unit tests of http/router: route matching, path parameters and percent-decoding, including the
// inputs fuzzing found (test/fuzz/fuzz_router.cpp).
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wallet::http {
namespace {

Router table() {
  Router router;
  router.add("GET", "/healthz", nullptr);
  router.add("GET", "/admin/actors", nullptr);
  router.add("GET", "/users/{user_id}/balance", nullptr);
  router.add("POST", "/addMoney", nullptr);
  router.add("GET", "/transactions/{transaction_id}", nullptr);
  router.add("POST", "/transactions/bulk", nullptr, 1 << 20);
  return router;
}

Router::Match match(const std::string& method, const std::string& path,
                    HttpRequest* out = nullptr) {
  static const Router router = table();
  HttpRequest request;
  request.method = method;
  request.path = path;
  const Route* route = nullptr;
  const auto result = router.match(request, &route);
  if (out) *out = request;
  return result;
}

TEST(RouterTest, MatchesExactPathsAndParameters) {
  EXPECT_EQ(match("GET", "/healthz"), Router::Match::found);
  HttpRequest request;
  EXPECT_EQ(match("GET", "/users/abc%2Fdef/balance", &request), Router::Match::found);
  EXPECT_EQ(request.params["user_id"], "abc/def");
}

TEST(RouterTest, KnownPathWithOtherMethodIsWrongMethod) {
  EXPECT_EQ(match("GET", "/addMoney"), Router::Match::wrong_method);
}

TEST(RouterTest, ALiteralPatternWinsOverAParameterForTheSamePath) {
  HttpRequest request;
  EXPECT_EQ(match("POST", "/transactions/bulk", &request), Router::Match::found);
  EXPECT_TRUE(request.params.empty());
  EXPECT_EQ(match("GET", "/transactions/bulk"), Router::Match::wrong_method);
  EXPECT_EQ(match("GET", "/transactions/abc", &request), Router::Match::found);
  EXPECT_EQ(request.params["transaction_id"], "abc");
  EXPECT_EQ(match("POST", "/transactions/abc"), Router::Match::wrong_method);
}

TEST(RouterTest, OnlyALiteralRouteRaisesTheBodyLimitOfItsPath) {
  Router router = table();
  router.add("POST", "/holds/{hold_id}/capture", nullptr, 1 << 20);  // ignored: a parameter
  EXPECT_EQ(router.body_limit("/transactions/bulk", 65536), 1u << 20);
  EXPECT_EQ(router.body_limit("/addMoney", 65536), 65536u);
  EXPECT_EQ(router.body_limit("/holds/x/capture", 65536), 65536u);
  EXPECT_EQ(router.body_limit("/transactions/bulk/", 65536), 65536u);
}

// Found by fuzz_router: the first character was skipped as if it were the leading '/', so a
// request line "GET xhealthz HTTP/1.1" reached /healthz and "GET Xadmin/actors" /admin/actors.
TEST(RouterTest, PathWithoutLeadingSlashIsNotFound) {
  EXPECT_EQ(match("GET", "xhealthz"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "Xadmin/actors"), Router::Match::not_found);
  EXPECT_EQ(match("POST", "?addMoney"), Router::Match::not_found);
  EXPECT_EQ(match("GET", ""), Router::Match::not_found);
  EXPECT_EQ(match("GET", "*"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "http://host/healthz"), Router::Match::not_found);
}

TEST(RouterTest, DoesNotNormalizeTraversalOrSlashes) {
  EXPECT_EQ(match("GET", "/users/../admin/actors"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "/%2e%2e/admin/actors"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "/admin/actors/"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "//healthz"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "/users//balance"), Router::Match::not_found);
  EXPECT_EQ(match("GET", "/admin%2Factors"), Router::Match::not_found);
}

TEST(RouterTest, PercentDecodesOnlyValidEscapes) {
  EXPECT_EQ(percent_decode("a%41%zz%4", false), "aA%zz%4");
  EXPECT_EQ(percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%", false), "%");
}

}  // namespace
}  // namespace wallet::http
