// The OpenAPI documents (http/openapi/*.json) against the code and the contract.
//
// How the route check works, and why it is honest: each service's main() hands its real Router,
// after every add_*_routes call, to add_openapi_routes(), which compares the (method, path
// template) pairs the router actually registered with the operations of the embedded document
// (http/openapi_check.hpp) and logs each difference; with OPENAPI_CHECK=1 a difference stops the
// service at start-up. No route list is copied into a test, no source is parsed, and no URL is
// probed: the router itself is the source of truth. This file then
//  - proves the comparison can fail, on documents broken on purpose (no servers needed);
//  - starts each built binary with OPENAPI_CHECK=1 (Kafka and NATS pointed at closed ports, so
//    the extra instance takes no traffic) and requires that it comes up, that it logged the check
//    over as many routes as the document has operations, and that it serves the repository's
//    document at /openapi.json;
//  - checks that the documents cover SPEC.md section 2 (routes, error shape, Idempotency-Key,
//    admin bearer auth) and that the running stack serves the same documents.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http/openapi_check.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using http::RouteKey;

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

nlohmann::json repository_document(const std::string& service) {
  auto text = read_text(std::string(WALLET_SOURCE_DIR) + "/http/openapi/" + service + ".json");
  return nlohmann::json::parse(text, nullptr, false);
}

// SPEC.md section 2, route by route (plus the admin page and /openapi.json of this work).
const std::vector<RouteKey> kCommonRoutes{
    {"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"}, {"GET", "/openapi.json"}};
const std::vector<RouteKey> kUserRoutes{{"POST", "/createUser"},
                                        {"POST", "/users"},
                                        {"GET", "/getBalance"},
                                        {"GET", "/balance"},
                                        {"GET", "/users/{user_id}"}};
const std::vector<RouteKey> kTransactionRoutes{{"POST", "/addMoney"},
                                               {"POST", "/transferMoney"},
                                               {"GET", "/users/{user_id}/balance"},
                                               {"GET", "/users/{user_id}/transactions"},
                                               {"POST", "/withdrawMoney"},
                                               {"POST", "/holds"},
                                               {"POST", "/holds/{hold_id}/capture"},
                                               {"POST", "/holds/{hold_id}/void"},
                                               {"GET", "/holds/{hold_id}"},
                                               {"GET", "/admin/actors"},
                                               {"GET", "/admin/actors/{user_id}"},
                                               {"GET", "/admin/bridges"},
                                               {"GET", "/admin/"},
                                               {"GET", "/admin"}};

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

const nlohmann::json& operation(const nlohmann::json& doc, const RouteKey& route) {
  return doc["paths"][route.second][lower(route.first)];
}

TEST(OpenApiCheckTest, FailsOnAnUndocumentedRouteAndOnAnUnroutedOperation) {
  const nlohmann::json doc = {
      {"openapi", "3.0.3"},
      {"paths",
       {{"/users/{user_id}",
         {{"get", {{"responses", nlohmann::json::object()}}},
          {"parameters", nlohmann::json::array()}}},
        {"/ghost", {{"delete", {{"responses", nlohmann::json::object()}}}}}}}};
  const std::vector<RouteKey> routes{{"GET", "/users/{user_id}"}, {"POST", "/addMoney"}};
  auto differences = http::openapi_route_differences(routes, doc);
  ASSERT_EQ(differences.size(), 2u) << nlohmann::json(differences).dump();
  EXPECT_EQ(differences[0], "POST /addMoney is routed but not documented");
  EXPECT_EQ(differences[1], "DELETE /ghost is documented but not routed");
  // Parameter names are part of the template; a document without paths documents nothing.
  EXPECT_EQ(http::openapi_route_differences({{"GET", "/users/{id}"}}, doc).size(), 3u);
  EXPECT_EQ(http::openapi_route_differences(routes, nlohmann::json::object()).size(), 1u);
  EXPECT_TRUE(
      http::openapi_route_differences({{"GET", "/users/{user_id}"}, {"DELETE", "/ghost"}}, doc)
          .empty());
}

TEST(OpenApiDocumentTest, CoverTheContractOfSpecSection2) {
  for (const auto& [service, specific] :
       {std::pair{std::string("user-service"), kUserRoutes},
        std::pair{std::string("transaction-service"), kTransactionRoutes}}) {
    SCOPED_TRACE(service);
    auto doc = repository_document(service);
    ASSERT_TRUE(doc.is_object()) << "http/openapi/" << service << ".json is not JSON";
    EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
    auto operations = http::openapi_operations(doc);
    std::vector<RouteKey> expected = kCommonRoutes;
    expected.insert(expected.end(), specific.begin(), specific.end());
    for (const auto& route : expected) {
      ASSERT_TRUE(operations.count(route)) << route.first << " " << route.second << " is missing";
      EXPECT_TRUE(operation(doc, route).contains("responses")) << route.second;
    }
    // The one error shape: {"error": {"code", "message"}}.
    const auto& error = doc["components"]["schemas"]["Error"];
    EXPECT_EQ(error["required"], nlohmann::json({"error"}));
    EXPECT_EQ(error["properties"]["error"]["required"], nlohmann::json({"code", "message"}));
  }

  auto doc = repository_document("transaction-service");
  for (const char* path : {"/addMoney", "/transferMoney", "/withdrawMoney", "/holds",
                           "/holds/{hold_id}/capture", "/holds/{hold_id}/void"}) {
    const auto& op = doc["paths"][path]["post"];
    EXPECT_EQ(op["parameters"][0]["$ref"], "#/components/parameters/IdempotencyKey") << path;
    const auto& success = op["responses"].contains("200") ? op["responses"]["200"]
                                                          : op["responses"]["201"];  // POST /holds
    EXPECT_TRUE(success["headers"].contains("Idempotent-Replayed")) << path;
    EXPECT_TRUE(op["responses"].contains("422")) << path;
  }
  EXPECT_EQ(doc["components"]["parameters"]["IdempotencyKey"]["name"], "Idempotency-Key");
  EXPECT_EQ(doc["components"]["parameters"]["IdempotencyKey"]["in"], "header");
  EXPECT_EQ(doc["components"]["securitySchemes"]["adminToken"]["scheme"], "bearer");
  for (const char* path : {"/admin/actors", "/admin/actors/{user_id}", "/admin/bridges"}) {
    const auto& op = doc["paths"][path]["get"];
    EXPECT_EQ(op["security"], nlohmann::json::parse(R"([{"adminToken": []}])")) << path;
    EXPECT_TRUE(op["responses"].contains("401")) << path;
  }
  EXPECT_EQ(doc["paths"]["/admin/"]["get"]["security"], nlohmann::json::array())
      << "the page itself is public";
}

// Starts `binary` with OPENAPI_CHECK=1 on a free port, away from Kafka and NATS, and returns the
// log once it answers /healthz (or fails the test with the log when it exits instead).
void expect_service_starts_with_the_check(const std::string& service, const std::string& db_url) {
  SCOPED_TRACE(service);
  const int port = free_port();
  ServiceProcess process(bin_dir() + "/" + service,
                         {{"OPENAPI_CHECK", "1"},
                          {"HTTP_PORT", std::to_string(port)},
                          {"DATABASE_URL", db_url},
                          {"KAFKA_BROKERS", "127.0.0.1:1"},
                          {"KAFKA_TOPIC", "openapi-check"},
                          {"KAFKA_GROUP_ID", "openapi-check"},
                          {"NATS_URL", "nats://127.0.0.1:1"},
                          {"ADMIN_TOKEN", "openapi-check"},
                          // Takes no partitions from the stack's instance (same database).
                          {"PARTITION_OWNERSHIP", "shared"},
                          {"LOG_LEVEL", "info"}},
                         "openapi-check-" + service);
  std::filesystem::remove(process.log_path());
  process.start();
  HttpClient client("http://127.0.0.1:" + std::to_string(port), std::chrono::milliseconds(2'000));
  bool up = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!up && process.running() && std::chrono::steady_clock::now() < deadline) {
    up = client.get("/healthz").status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = read_text(process.log_path());
  ASSERT_TRUE(up) << service << " did not start with OPENAPI_CHECK=1 (its routes and "
                  << "http/openapi/" << service << ".json differ?). Log " << process.log_path()
                  << ":\n"
                  << log;
  const auto doc = repository_document(service);
  const std::string checked = "event=openapi_checked service=" + service +
                              " routes=" + std::to_string(http::openapi_operations(doc).size());
  EXPECT_NE(log.find(checked), std::string::npos) << "expected \"" << checked << "\" in:\n" << log;
  EXPECT_EQ(log.find("event=openapi_mismatch"), std::string::npos) << log;
  auto served = client.get("/openapi.json");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.headers["content-type"], "application/json");
  EXPECT_EQ(served.json(), doc) << "the binary serves another document than the repository's";
  process.terminate(std::chrono::seconds(15));
}

TEST(OpenApiRouteCheckTest, UserServiceRoutesMatchItsDocument) {
  expect_service_starts_with_the_check("user-service", user_db_url());
}

TEST(OpenApiRouteCheckTest, TransactionServiceRoutesMatchItsDocument) {
  expect_service_starts_with_the_check("transaction-service", transaction_db_url());
}

TEST(OpenApiServedTest, TheRunningStackServesTheRepositoryDocuments) {
  for (const auto& [service, url] :
       {std::pair{std::string("user-service"), user_service_url()},
        std::pair{std::string("transaction-service"), transaction_service_url()}}) {
    auto served = HttpClient(url).get("/openapi.json");
    ASSERT_EQ(served.status, 200) << service << " " << served.body.substr(0, 300);
    EXPECT_EQ(served.json(), repository_document(service)) << service;
  }
}

}  // namespace
}  // namespace wallet::test
