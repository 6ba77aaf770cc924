// The bad-input catalogue: malformed requests against every endpoint of both running services
// (scripts/up). Each must be answered 4xx with the contract's JSON error, reveal nothing internal
// (SQL, exception text, library names), change no row, and leave both services ready.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "test/e2e/bad_input/raw_http_client.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

enum class Service { user, transaction };

struct BadInput {
  std::string name;
  Service service;
  std::string request;    // the raw HTTP/1.1 request
  int status;             // the exact status expected; 0: any 4xx
  std::string code;       // the error code the contract fixes; empty: any code
  bool json_body = true;  // false: Pistache answers itself with an empty body (docs/security.md)
};

// Text that would betray internals: SQL, exception and library texts. A marker only counts when
// the request itself did not contain it (a rejected field name may be quoted back).
const std::vector<std::string> kLeakMarkers = {
    "pqxx",         "ERROR:",      "SQLSTATE",
    "SELECT",       "INSERT ",     "UPDATE ",
    "DELETE ",      "DROP ",       "terminate",
    "what()",       "std::",       "basic_string",
    "_M_",          "stoul",       "stoi",
    "Exception",    "exception",   "Invalid ",
    "Unknown HTTP", "Encountered", "exceeded maximum",
    "Pistache",     ".cpp",        ".hpp",
    "Segmentation", "nlohmann",    "parse_error",
    "syntax error", "relation \"", "duplicate key",
};

std::string json_post(const std::string& path, const std::string& body,
                      const RawHeaders& extra = {}, const std::string& type = "application/json") {
  RawHeaders headers = extra;
  if (!type.empty()) headers.emplace_back("Content-Type", type);
  return http_request("POST", path, headers, body);
}

std::string get(const std::string& target, const RawHeaders& headers = {}) {
  return http_request("GET", target, headers, "", false);
}

std::string chunked(const std::string& method, const std::string& path, const std::string& chunks,
                    const std::string& type = "application/json") {
  return http_request(method, path, {{"Content-Type", type}, {"Transfer-Encoding", "chunked"}},
                      chunks, false);
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Everything the catalogue sends. `a` and `b` are funded accounts and `email` a valid address
// nobody uses: a request that wrongly got through would move money or create a user, which the
// test detects.
std::vector<BadInput> catalogue(const std::string& a, const std::string& b,
                                const std::string& email, const std::string& admin_token) {
  const auto deposit = [&](const std::string& amount) {
    return nlohmann::json{{"user_id", a}, {"amount", amount}}.dump();
  };
  const std::string good_deposit = deposit("1.00");
  const std::string good_transfer =
      nlohmann::json{{"from_user_id", a}, {"to_user_id", b}, {"amount_to_transfer", "1.00"}}.dump();
  const std::string good_user = nlohmann::json{{"email", email}}.dump();
  const std::string sql = "'; DROP TABLE transactions; SELECT * FROM users WHERE '1'='1";
  const std::string big_body = R"({"user_id":")" + a + R"(","amount":"1.00","pad":")" +
                               std::string(70 * 1024, 'x') + R"("})";
  const std::string huge_body = std::string(200 * 1024, ' ') + good_deposit;
  RawHeaders flood, bigger_flood;
  for (int i = 0; i < 2000; ++i) flood.emplace_back("X-Flood-" + std::to_string(i), "v");
  for (int i = 0; i < 6000; ++i) bigger_flood.emplace_back("X-Flood-" + std::to_string(i), "v");
  const auto T = Service::transaction;
  const auto U = Service::user;
  const auto bearer = [](const std::string& token) {
    return RawHeaders{{"Authorization", "Bearer " + token}};
  };

  return {
      // ---- POST /addMoney: types, fields, structure
      {"deposit user_id is a number", T, json_post("/addMoney", R"({"user_id":5,"amount":"1.00"})"),
       400, "invalid_user_id"},
      {"deposit amount is a boolean", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":true})"), 400,
       "invalid_amount"},
      {"deposit amount is an object", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":{"v":"1"}})"), 400,
       "invalid_json"},
      {"deposit amount is an array", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":["1.00"]})"), 400,
       "invalid_json"},
      {"deposit without user_id", T, json_post("/addMoney", R"({"amount":"1.00"})"), 400,
       "invalid_user_id"},
      {"deposit without amount", T, json_post("/addMoney", R"({"user_id":")" + a + R"("})"), 400,
       "invalid_amount"},
      {"deposit with duplicate amount", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":"1.00","amount":"2.00"})"), 400,
       "invalid_json"},
      {"deposit with duplicate user_id", T,
       json_post("/addMoney",
                 R"({"user_id":")" + b + R"(","user_id":")" + a + R"(","amount":"1.00"})"),
       400, "invalid_json"},
      {"deposit body is 10000 nested arrays", T, json_post("/addMoney", nested_arrays(10000)), 400,
       "invalid_json"},
      {"deposit amount nests 10000 arrays", T,
       json_post("/addMoney",
                 R"({"user_id":")" + a + R"(","amount":)" + nested_arrays(10000) + "}"),
       400, "invalid_json"},
      {"deposit amount 1e400", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":1e400})"), 400, "invalid_json"},
      {"deposit amount has 40 digits", T,
       json_post("/addMoney",
                 R"({"user_id":")" + a + R"(","amount":)" + std::string(40, '9') + "}"),
       400, "invalid_amount"},
      {"deposit amount over the cap", T, json_post("/addMoney", deposit("1000000000.01")), 400,
       "invalid_amount"},
      {"deposit amount negative", T, json_post("/addMoney", deposit("-1.00")), 400,
       "invalid_amount"},
      {"deposit amount NaN", T, json_post("/addMoney", deposit("NaN")), 400, "invalid_amount"},
      {"deposit amount with exponent", T,
       json_post("/addMoney", R"({"user_id":")" + a + R"(","amount":1e3})"), 400, "invalid_amount"},
      {"deposit amount with 3 decimals", T, json_post("/addMoney", deposit("1.001")), 400,
       "invalid_amount"},
      {"deposit amount is SQL", T, json_post("/addMoney", deposit(sql)), 400, "invalid_amount"},
      {"deposit user_id is SQL", T,
       json_post("/addMoney", nlohmann::json{{"user_id", sql}, {"amount", "1.00"}}.dump()), 400,
       "invalid_user_id"},
      {"deposit idempotency_key field is SQL", T,
       json_post(
           "/addMoney",
           nlohmann::json{{"user_id", a}, {"amount", "1.00"}, {"idempotency_key", sql}}.dump()),
       400, "invalid_idempotency_key"},
      {"deposit body is invalid UTF-8", T,
       json_post("/addMoney", "{\"user_id\":\"" + a + "\",\"amount\":\"1.00\",\"x\":\"\xff\xfe\"}"),
       400, "invalid_json"},
      {"deposit user_id holds an escaped NUL", T,
       json_post("/addMoney", R"({"user_id":"\u0000","amount":"1.00"})"), 400, "invalid_user_id"},
      {"deposit body holds a raw NUL", T,
       json_post("/addMoney", good_deposit + std::string(1, '\0') + "x"), 400, "invalid_json"},
      {"deposit body is empty", T, json_post("/addMoney", ""), 400, "invalid_json"},
      {"deposit body is whitespace", T, json_post("/addMoney", " \r\n\t "), 400, "invalid_json"},
      {"deposit body is a JSON string", T, json_post("/addMoney", "\"" + a + "\""), 400,
       "invalid_json"},
      {"deposit as text/plain", T, json_post("/addMoney", good_deposit, {}, "text/plain"), 415,
       "unsupported_media_type"},
      {"deposit as a form", T,
       json_post("/addMoney", "user_id=" + a + "&amount=1.00", {},
                 "application/x-www-form-urlencoded"),
       415, "unsupported_media_type"},
      {"deposit as XML", T, json_post("/addMoney", good_deposit, {}, "application/xml"), 415,
       "unsupported_media_type"},
      {"deposit with a malformed media type", T,
       json_post("/addMoney", good_deposit, {}, "application/"), 415, "unsupported_media_type"},
      {"deposit body over 64 KiB", T, json_post("/addMoney", big_body), 413, "payload_too_large"},
      {"deposit body of 200 KiB", T, json_post("/addMoney", huge_body), 413, "payload_too_large"},
      {"deposit declaring a 2 GB body", T,
       http_request("POST", "/addMoney",
                    {{"Content-Type", "application/json"}, {"Content-Length", "2000000000"}}, "{",
                    false),
       413, "payload_too_large"},
      // ---- framing: chunked bodies, Content-Length, Transfer-Encoding
      {"deposit chunked with invalid JSON", T,
       chunked("POST", "/addMoney", "5\r\n{\"a\":\r\n0\r\n\r\n"), 400, "invalid_json"},
      {"deposit chunked as text/plain", T,
       chunked("POST", "/addMoney", "2\r\n{}\r\n0\r\n\r\n", "text/plain"), 415,
       "unsupported_media_type"},
      {"deposit chunk size is not hex", T, chunked("POST", "/addMoney", "zz\r\n{}\r\n0\r\n\r\n"),
       400, "bad_request"},
      {"deposit chunk size is negative", T, chunked("POST", "/addMoney", "-5\r\n{}\r\n0\r\n\r\n"),
       400, "bad_request"},
      {"deposit chunk size overflows", T,
       chunked("POST", "/addMoney", "FFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n"), 400, "bad_request"},
      {"deposit with gzip Transfer-Encoding", T,
       http_request("POST", "/addMoney",
                    {{"Content-Type", "application/json"}, {"Transfer-Encoding", "gzip"}},
                    good_deposit, false),
       400, "bad_request"},
      {"deposit with Content-Length and chunked", T,
       http_request("POST", "/addMoney",
                    {{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}},
                    "2\r\n{}\r\n0\r\n\r\n"),
       400, "bad_request"},
      {"deposit with negative Content-Length", T,
       http_request("POST", "/addMoney",
                    {{"Content-Type", "application/json"}, {"Content-Length", "-1"}}, "", false),
       400, "bad_request"},
      {"deposit with 30-digit Content-Length", T,
       http_request(
           "POST", "/addMoney",
           {{"Content-Type", "application/json"}, {"Content-Length", std::string(30, '9')}}, "",
           false),
       400, "bad_request"},
      // ---- headers: Idempotency-Key values and header abuse
      {"deposit with empty Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", ""}}), 400,
       "invalid_idempotency_key"},
      {"deposit with 256-char Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", std::string(256, 'k')}}), 400,
       "invalid_idempotency_key"},
      {"deposit with 60 KiB Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", std::string(60 * 1024, 'k')}}),
       400, "invalid_idempotency_key"},
      {"deposit with control char in Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", "key\x01\x1b[2J"}}), 400,
       "invalid_idempotency_key"},
      {"deposit with NUL in Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", std::string("ke\0y", 4)}}), 400,
       "invalid_idempotency_key"},
      {"deposit with non-ASCII Idempotency-Key", T,
       json_post("/addMoney", good_deposit,
                 {{"Idempotency-Key", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87"}}),
       400, "invalid_idempotency_key"},
      {"deposit with SQL Idempotency-Key", T,
       json_post("/addMoney", good_deposit, {{"Idempotency-Key", sql}}), 400,
       "invalid_idempotency_key"},
      {"deposit with header and body keys differing", T,
       json_post(
           "/addMoney",
           nlohmann::json{{"user_id", a}, {"amount", "1.00"}, {"idempotency_key", "k-2"}}.dump(),
           {{"Idempotency-Key", "k-1"}}),
       400, "invalid_idempotency_key"},
      {"deposit with a 100 KiB header", T,
       json_post("/addMoney", good_deposit, {{"X-Long", std::string(100 * 1024, 'h')}}), 413,
       "payload_too_large"},
      {"deposit with 2000 headers and bad JSON", T, json_post("/addMoney", "{", flood), 400,
       "invalid_json"},
      {"deposit with 6000 headers", T, json_post("/addMoney", good_deposit, bigger_flood), 413,
       "payload_too_large"},
      {"deposit with an unparsable Date header", T,
       json_post("/addMoney", good_deposit, {{"Date", "yesterday-ish"}}), 400, "bad_request"},
      {"deposit with an unparsable Host port", T,
       http_request("POST", "/addMoney", {{"Host", "a:b:c"}, {"Content-Type", "application/json"}},
                    good_deposit),
       400, "bad_request"},
      {"deposit with an unparsable Cache-Control", T,
       json_post("/addMoney", good_deposit, {{"Cache-Control", "max-age=soon"}}), 400,
       "bad_request"},
      {"header line without a colon", T,
       "POST /addMoney HTTP/1.1\r\nContent-Type: application/json\r\nNoColonHere\r\n\r\n" +
           good_deposit,
       408, "request_timeout"},
      // ---- request line
      {"unknown method", T, http_request("BREW", "/addMoney", {}, good_deposit), 400,
       "bad_request"},
      {"HTTP/9.9", T, "POST /addMoney HTTP/9.9\r\nContent-Length: 2\r\n\r\n{}", 400, "bad_request"},
      {"wrong method on addMoney", T, get("/addMoney"), 405, "method_not_allowed"},
      {"wrong method on transferMoney", T,
       http_request("PUT", "/transferMoney", {{"Content-Type", "application/json"}}, good_transfer),
       405, "method_not_allowed"},
      {"path without leading slash", T, get("xhealthz"), 404, "not_found"},
      {"admin path without leading slash", T, get("Xadmin/actors", bearer(admin_token)), 404,
       "not_found"},
      {"absolute-form target", T,
       http_request("POST", "http://127.0.0.1/addMoney", {{"Content-Type", "application/json"}},
                    good_deposit),
       404, "not_found"},
      {"NUL byte in the path", T, get(std::string("/users/\0/balance", 16)), 400,
       "invalid_user_id"},
      // ---- POST /transferMoney
      {"transfer without from_user_id", T,
       json_post("/transferMoney",
                 nlohmann::json{{"to_user_id", b}, {"amount_to_transfer", "1.00"}}.dump()),
       400, "invalid_user_id"},
      {"transfer to the same account", T,
       json_post(
           "/transferMoney",
           nlohmann::json{{"from_user_id", a}, {"to_user_id", a}, {"amount_to_transfer", "1.00"}}
               .dump()),
       400, "same_account"},
      {"transfer amount and alias differ", T,
       json_post("/transferMoney", nlohmann::json{{"from_user_id", a},
                                                  {"to_user_id", b},
                                                  {"amount_to_transfer", "1.00"},
                                                  {"amount", "9.00"}}
                                       .dump()),
       400, "invalid_amount"},
      {"transfer to_user_id is SQL", T,
       json_post(
           "/transferMoney",
           nlohmann::json{{"from_user_id", a}, {"to_user_id", sql}, {"amount_to_transfer", "1.00"}}
               .dump()),
       400, "invalid_user_id"},
      {"transfer amount is SQL", T,
       json_post("/transferMoney",
                 nlohmann::json{{"from_user_id", a}, {"to_user_id", b}, {"amount_to_transfer", sql}}
                     .dump()),
       400, "invalid_amount"},
      {"transfer from_user_id is an array", T,
       json_post("/transferMoney", R"({"from_user_id":[")" + a + R"("],"to_user_id":")" + b +
                                       R"(","amount":"1.00"})"),
       400, "invalid_json"},
      {"transfer body is 10000 nested arrays", T, json_post("/transferMoney", nested_arrays(10000)),
       400, "invalid_json"},
      {"transfer with 33 fields", T,
       json_post("/transferMoney",
                 [] {
                   nlohmann::json j;
                   for (int i = 0; i < 33; ++i) j["f" + std::to_string(i)] = i;
                   return j.dump();
                 }()),
       400, "invalid_json"},
      {"transfer with a 65-byte field name", T,
       json_post("/transferMoney", "{\"" + std::string(65, 'k') + "\":1}"), 400, "invalid_json"},
      {"transfer with a 2 KiB string", T,
       json_post("/transferMoney", nlohmann::json{{"from_user_id", std::string(2048, 'a')}}.dump()),
       400, "invalid_json"},
      {"transfer body is an array", T, json_post("/transferMoney", "[" + good_transfer + "]"), 400,
       "invalid_json"},
      {"transfer as text/plain", T, json_post("/transferMoney", good_transfer, {}, "text/plain"),
       415, "unsupported_media_type"},
      {"transfer with control char Idempotency-Key", T,
       json_post("/transferMoney", good_transfer, {{"Idempotency-Key", "a\tb"}}), 400,
       "invalid_idempotency_key"},
      {"transfer chunked with bad chunk", T, chunked("POST", "/transferMoney", "1;ext\r\nxx\r\n"),
       400, "bad_request"},
      // ---- GET /users/{id}/balance and /users/{id}/transactions
      {"balance of a non-uuid", T, get("/users/not-a-uuid/balance"), 400, "invalid_user_id"},
      {"balance of an SQL id", T, get("/users/'%20OR%20'1'%3D'1/balance"), 400, "invalid_user_id"},
      {"balance of %2e%2e", T, get("/users/%2e%2e/balance"), 400, "invalid_user_id"},
      {"balance via path traversal", T, get("/users/../admin/actors"), 404, "not_found"},
      {"balance via encoded traversal", T, get("/users/%2e%2e/%2e%2e/admin/actors"), 404,
       "not_found"},
      {"transactions with limit=abc", T, get("/users/" + a + "/transactions?limit=abc"), 400,
       "invalid_limit"},
      {"transactions with limit=0", T, get("/users/" + a + "/transactions?limit=0"), 400,
       "invalid_limit"},
      {"transactions with limit=-1", T, get("/users/" + a + "/transactions?limit=-1"), 400,
       "invalid_limit"},
      {"transactions with limit=1001", T, get("/users/" + a + "/transactions?limit=1001"), 400,
       "invalid_limit"},
      {"transactions with a 30-digit limit", T,
       get("/users/" + a + "/transactions?limit=" + std::string(30, '9')), 400, "invalid_limit"},
      {"transactions with SQL limit", T,
       get("/users/" + a + "/transactions?limit=1%3B%20DELETE%20FROM%20transactions"), 400,
       "invalid_limit"},
      {"transactions of an SQL id", T, get("/users/1%20UNION%20SELECT%20password/transactions"),
       400, "invalid_user_id"},
      {"transactions with a 60 KiB path", T,
       get("/users/" + std::string(60 * 1024, 'a') + "/transactions"), 400, "invalid_user_id"},
      {"transactions with a garbage cursor", T, get("/users/" + a + "/transactions?before=abc"),
       400, "invalid_cursor"},
      {"transactions with a cursor in clear", T, get("/users/" + a + "/transactions?before=5"), 400,
       "invalid_cursor"},
      {"transactions with an SQL cursor", T,
       get("/users/" + a + "/transactions?before=1%3B%20DELETE%20FROM%20transactions"), 400,
       "invalid_cursor"},
      {"transactions with a future-version cursor", T,
       get("/users/" + a + "/transactions?before=djI6NQ"), 400, "invalid_cursor"},
      {"transactions with a 4 KiB cursor", T,
       get("/users/" + a + "/transactions?before=" + std::string(4096, 'A')), 400,
       "invalid_cursor"},
      // ---- release 2: POST /withdrawMoney
      {"withdraw amount is a boolean", T,
       json_post("/withdrawMoney", R"({"user_id":")" + a + R"(","amount":true})"), 400,
       "invalid_amount"},
      {"withdraw negative amount", T, json_post("/withdrawMoney", deposit("-1.00")), 400,
       "invalid_amount"},
      {"withdraw exponent amount", T, json_post("/withdrawMoney", deposit("1e2")), 400,
       "invalid_amount"},
      {"withdraw more than the balance", T, json_post("/withdrawMoney", deposit("100.01")), 409,
       "insufficient_funds"},
      {"withdraw from an unknown user", T,
       json_post("/withdrawMoney",
                 nlohmann::json{{"user_id", domain::new_uuid_v4()}, {"amount", "1.00"}}.dump()),
       404, "user_not_found"},
      {"withdraw SQL user_id", T,
       json_post("/withdrawMoney", nlohmann::json{{"user_id", sql}, {"amount", "1.00"}}.dump()),
       400, "invalid_user_id"},
      {"withdraw body is an array", T, json_post("/withdrawMoney", "[]"), 400, "invalid_json"},
      {"withdraw as text/plain", T, json_post("/withdrawMoney", good_deposit, {}, "text/plain"),
       415, "unsupported_media_type"},
      {"withdraw by GET", T, get("/withdrawMoney"), 405, "method_not_allowed"},
      // ---- release 2: holds
      {"hold to the same account", T,
       json_post("/holds",
                 nlohmann::json{{"from_user_id", a}, {"to_user_id", a}, {"amount", "1"}}.dump()),
       400, "same_account"},
      {"hold with timeout 0", T,
       json_post("/holds", R"({"from_user_id":")" + a + R"(","to_user_id":")" + b +
                               R"(","amount":"1.00","timeout_seconds":0})"),
       400, "invalid_timeout"},
      {"hold with timeout over a week", T,
       json_post("/holds", R"({"from_user_id":")" + a + R"(","to_user_id":")" + b +
                               R"(","amount":"1.00","timeout_seconds":604801})"),
       400, "invalid_timeout"},
      {"hold with an SQL timeout", T,
       json_post(
           "/holds",
           nlohmann::json{
               {"from_user_id", a}, {"to_user_id", b}, {"amount", "1.00"}, {"timeout_seconds", sql}}
               .dump()),
       400, "invalid_timeout"},
      {"hold with a 1e9 timeout", T,
       json_post("/holds", R"({"from_user_id":")" + a + R"(","to_user_id":")" + b +
                               R"(","amount":"1.00","timeout_seconds":1e9})"),
       400, "invalid_timeout"},
      {"hold of more than the balance", T,
       json_post(
           "/holds",
           nlohmann::json{{"from_user_id", a}, {"to_user_id", b}, {"amount", "100.01"}}.dump()),
       409, "insufficient_funds"},
      {"hold for an unknown payee", T,
       json_post("/holds",
                 nlohmann::json{
                     {"from_user_id", a}, {"to_user_id", domain::new_uuid_v4()}, {"amount", "1.00"}}
                     .dump()),
       404, "user_not_found"},
      {"hold without amount", T,
       json_post("/holds", nlohmann::json{{"from_user_id", a}, {"to_user_id", b}}.dump()), 400,
       "invalid_amount"},
      {"hold body nests objects", T, json_post("/holds", R"({"from_user_id":{"a":1}})"), 400,
       "invalid_json"},
      {"capture of a non-uuid hold", T, json_post("/holds/not-a-hold/capture", "{}"), 400,
       "invalid_hold_id"},
      {"capture of an SQL hold id", T, json_post("/holds/'%20OR%20'1'%3D'1/capture", "{}"), 400,
       "invalid_hold_id"},
      {"capture of an unknown hold", T,
       json_post("/holds/" + domain::new_uuid_v4() + "/capture", "{}"), 404, "hold_not_found"},
      {"capture with a zero amount", T,
       json_post("/holds/" + domain::new_uuid_v4() + "/capture", R"({"amount":"0"})"), 400,
       "invalid_amount"},
      {"capture body is malformed", T,
       json_post("/holds/" + domain::new_uuid_v4() + "/capture", "{\"amount\""), 400,
       "invalid_json"},
      {"void of an unknown hold", T, json_post("/holds/" + domain::new_uuid_v4() + "/void", "{}"),
       404, "hold_not_found"},
      {"void with an amount", T,
       json_post("/holds/" + domain::new_uuid_v4() + "/void", R"({"amount":"1.00"})"), 400,
       "invalid_amount"},
      {"void with a control-char key", T,
       json_post("/holds/" + domain::new_uuid_v4() + "/void", "{}", {{"Idempotency-Key", "a\tb"}}),
       400, "invalid_idempotency_key"},
      {"read of a non-uuid hold", T, get("/holds/%2e%2e"), 400, "invalid_hold_id"},
      {"read of an unknown hold", T, get("/holds/" + domain::new_uuid_v4()), 404, "hold_not_found"},
      {"hold by GET", T, get("/holds"), 405, "method_not_allowed"},
      // ---- admin
      {"admin actors without token", T, get("/admin/actors"), 401, "unauthorized"},
      {"admin actors with wrong token", T, get("/admin/actors", bearer("not-the-token")), 401,
       "unauthorized"},
      {"admin actors with SQL token", T, get("/admin/actors", bearer(sql)), 401, "unauthorized"},
      {"admin actors with 8 KiB token", T, get("/admin/actors", bearer(std::string(8192, 't'))),
       401, "unauthorized"},
      {"admin actors with Basic auth", T,
       get("/admin/actors", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}), 401, "unauthorized"},
      {"admin actor of an SQL id without token", T, get("/admin/actors/'%20OR%201=1"), 401,
       "unauthorized"},
      {"request target with raw spaces", T, get("/admin/actors/' OR 1=1"), 400, "bad_request"},
      {"admin actor of %2e%2e with token", T, get("/admin/actors/%2e%2e", bearer(admin_token)), 400,
       "invalid_user_id"},
      {"admin bridges with empty bearer", T, get("/admin/bridges", {{"Authorization", "Bearer "}}),
       401, "unauthorized"},
      {"admin actors by POST", T, json_post("/admin/actors", "{}", bearer(admin_token)), 405,
       "method_not_allowed"},
      // ---- user-service: POST /createUser and POST /users
      {"create user email is a number", U, json_post("/createUser", R"({"email":5})"), 400,
       "invalid_email"},
      {"create user without email", U, json_post("/createUser", R"({"mail":"a@b.com"})"), 400,
       "invalid_email"},
      {"create user email is SQL", U,
       json_post("/createUser", nlohmann::json{{"email", "x'; DROP TABLE users; --@b.com"}}.dump()),
       400, "invalid_email"},
      {"create user email is OR 1=1", U,
       json_post("/createUser", nlohmann::json{{"email", "' OR '1'='1"}}.dump()), 400,
       "invalid_email"},
      {"create user email of 300 chars", U,
       json_post("/createUser", nlohmann::json{{"email", std::string(290, 'a') + "@b.com"}}.dump()),
       400, "invalid_email"},
      {"create user email with escaped NUL", U,
       json_post("/createUser", R"({"email":"a\u0000@b.com"})"), 400, "invalid_email"},
      {"create user with duplicate email", U,
       json_post("/createUser", R"({"email":")" + email + R"(","email":")" + email + R"("})"), 400,
       "invalid_json"},
      {"create user body is 10000 nested arrays", U, json_post("/createUser", nested_arrays(10000)),
       400, "invalid_json"},
      {"create user body is invalid UTF-8", U,
       json_post("/createUser", "{\"email\":\"\xc3\x28@b.com\"}"), 400, "invalid_json"},
      {"create user as text/plain", U, json_post("/createUser", good_user, {}, "text/plain"), 415,
       "unsupported_media_type"},
      {"create user with empty body", U, json_post("/createUser", ""), 400, "invalid_json"},
      {"create user body over 64 KiB", U,
       json_post("/createUser",
                 R"({"email":")" + email + R"(","pad":")" + std::string(70 * 1024, 'p') + R"("})"),
       413, "payload_too_large"},
      {"create user chunked with bad chunk", U,
       chunked("POST", "/createUser", "zz\r\n" + good_user + "\r\n0\r\n\r\n"), 400, "bad_request"},
      {"create user with negative Content-Length", U,
       http_request("POST", "/createUser",
                    {{"Content-Type", "application/json"}, {"Content-Length", "-5"}}, "", false),
       400, "bad_request"},
      {"users email is an array", U, json_post("/users", nlohmann::json{{"email", {email}}}.dump()),
       400, "invalid_json"},
      {"users email 1e400", U, json_post("/users", R"({"email":1e400})"), 400, "invalid_json"},
      {"users with 100 KiB header", U,
       json_post("/users", good_user, {{"X-Long", std::string(100 * 1024, 'h')}}), 413,
       "payload_too_large"},
      {"users by PUT", U,
       http_request("PUT", "/users", {{"Content-Type", "application/json"}}, good_user), 405,
       "method_not_allowed"},
      // ---- user-service: GET /getBalance, GET /balance
      {"getBalance with SQL email", U, get("/getBalance?email=%27%20OR%201%3D1--"), 400,
       "invalid_email"},
      {"getBalance without email", U, get("/getBalance"), 400, "invalid_email"},
      {"getBalance email is a number", U,
       http_request("GET", "/getBalance", {{"Content-Type", "application/json"}}, R"({"email":5})"),
       400, "invalid_email"},
      {"getBalance body is invalid JSON", U,
       http_request("GET", "/getBalance", {{"Content-Type", "application/json"}}, R"({"email":)"),
       400, "invalid_json"},
      {"balance email of 300 chars", U, get("/balance?email=" + std::string(290, 'a') + "%40b.com"),
       400, "invalid_email"},
      {"balance body as text/plain", U,
       http_request("GET", "/balance", {{"Content-Type", "text/plain"}}, good_user), 415,
       "unsupported_media_type"},
      {"balance email with encoded NUL", U, get("/balance?email=a%00%40b.com"), 400,
       "invalid_email"},
      {"balance body nests 10000 arrays", U,
       http_request("GET", "/balance", {{"Content-Type", "application/json"}},
                    nested_arrays(10000)),
       400, "invalid_json"},
      // ---- user-service: GET /users/{id}
      {"user of a non-uuid", U, get("/users/not-a-uuid"), 400, "invalid_user_id"},
      {"user of an SQL id", U, get("/users/'%20OR%20'1'%3D'1"), 400, "invalid_user_id"},
      {"user via encoded traversal", U, get("/users/..%2F..%2Fetc%2Fpasswd"), 400,
       "invalid_user_id"},
      {"user via path traversal", U, get("/users/../admin"), 404, "not_found"},
      {"user of %00", U, get("/users/%00"), 400, "invalid_user_id"},
      {"user by DELETE", U, http_request("DELETE", "/users/" + a, {}, "", false), 405,
       "method_not_allowed"},
      {"user-service unknown method", U, http_request("BREW", "/users", {}, good_user), 400,
       "bad_request"},
      {"user-service bad Content-Length", U,
       http_request(
           "POST", "/users",
           {{"Content-Type", "application/json"}, {"Content-Length", std::string(25, '9')}}, "",
           false),
       400, "bad_request"},
  };
}

std::string leaked_marker(const std::string& body, const std::string& request) {
  for (const auto& marker : kLeakMarkers) {
    if (body.find(marker) != std::string::npos && request.find(marker) == std::string::npos) {
      return marker;
    }
  }
  return "";
}

// The rows a wrongly accepted request could have written.
struct Snapshot {
  std::string balance_a, balance_b;
  long ledger_rows = 0;
  long users_with_email = 0;
  long outbox_rows = 0;
  long holds = 0;  // release 2
  bool operator==(const Snapshot& o) const {
    return balance_a == o.balance_a && balance_b == o.balance_b && ledger_rows == o.ledger_rows &&
           holds == o.holds && users_with_email == o.users_with_email &&
           outbox_rows == o.outbox_rows;
  }
};

Snapshot snapshot(pqxx::connection& ledger_db, pqxx::connection& user_db, const std::string& a,
                  const std::string& b, const std::string& marker) {
  Snapshot s;
  s.balance_a = db_balance(ledger_db, a);
  s.balance_b = db_balance(ledger_db, b);
  s.ledger_rows = count_rows(
      ledger_db, "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])", {a, b});
  s.holds = count_rows(ledger_db, "SELECT count(*) FROM holds WHERE from_user_id = ANY($1::uuid[])",
                       {a, b});
  pqxx::work txn(user_db);
  const std::string like = "%" + marker + "%";
  s.users_with_email =
      txn.exec_params1("SELECT count(*) FROM users WHERE email LIKE $1", like)[0].as<long>();
  s.outbox_rows =
      txn.exec_params1("SELECT count(*) FROM outbox WHERE payload::text LIKE $1", like)[0]
          .as<long>();
  txn.commit();
  return s;
}

std::string base_url(Service service) {
  return service == Service::user ? user_service_url() : transaction_service_url();
}

TEST(BadInputTest, EveryMalformedRequestIsA4xxJsonErrorThatRevealsAndChangesNothing) {
  pqxx::connection ledger_db(transaction_db_url());
  pqxx::connection user_db(user_db_url());
  const auto ids = create_accounts(ledger_db, 2);
  const std::string& a = ids[0];
  const std::string& b = ids[1];
  HttpClient money(transaction_service_url());
  const auto funded =
      money.post("/addMoney", nlohmann::json{{"user_id", a}, {"amount", "100.00"}}.dump());
  ASSERT_EQ(funded.status, 200) << funded.body;
  const std::string marker = "badinput" + domain::new_uuid_v4().substr(0, 8);
  const std::string email = "x-" + marker + "@example.com";

  const Snapshot before = snapshot(ledger_db, user_db, a, b, marker);
  const auto cases = catalogue(a, b, email, admin_token());
  ASSERT_GE(cases.size(), 60u);
  int json_errors = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto response = raw_exchange(base_url(c.service), c.request, c.json_body ? 15s : 20s);
    std::printf("  %-48s -> %d %s\n", c.name.c_str(), response.status,
                response.body.substr(0, 100).c_str());
    if (response.status == 0) {
      ADD_FAILURE() << "no answer: " << response.error;
      continue;
    }
    EXPECT_GE(response.status, 400);
    EXPECT_LT(response.status, 500) << response.body;
    if (c.status != 0) {
      EXPECT_EQ(response.status, c.status) << response.body;
    }
    EXPECT_EQ(leaked_marker(response.body, c.request), "") << response.body;
    if (!c.json_body) continue;
    EXPECT_EQ(response.headers.count("content-type") ? response.headers.at("content-type") : "",
              "application/json");
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    const bool shaped = json.is_object() && json.contains("error") && json["error"].is_object() &&
                        json["error"].contains("code") && json["error"]["code"].is_string() &&
                        json["error"].contains("message") && json["error"]["message"].is_string();
    if (!shaped) {
      ADD_FAILURE() << "not the JSON error shape: " << response.body;
      continue;
    }
    if (!c.code.empty()) {
      EXPECT_EQ(json["error"]["code"], c.code) << response.body;
    }
    ++json_errors;
  }
  std::printf("bad inputs: %zu requests, %d answered with the JSON error shape\n", cases.size(),
              json_errors);

  const Snapshot after = snapshot(ledger_db, user_db, a, b, marker);
  EXPECT_TRUE(before == after) << "balances " << before.balance_a << "/" << before.balance_b
                               << " -> " << after.balance_a << "/" << after.balance_b
                               << ", ledger rows " << before.ledger_rows << " -> "
                               << after.ledger_rows << ", users " << after.users_with_email
                               << ", outbox " << after.outbox_rows;
  EXPECT_EQ(after.balance_a, "100.00");
  EXPECT_EQ(after.users_with_email, 0);
  EXPECT_TRUE(ledger_violations(ledger_db, ids).empty());
  for (const auto& url : {user_service_url(), transaction_service_url()}) {
    EXPECT_EQ(HttpClient(url).get("/readyz").status, 200) << url;
  }
}

// Error messages are ours: an unknown path (or a wrong method) is not quoted back to the client.
TEST(BadInputTest, NotFoundAndWrongMethodDoNotEchoThePath) {
  const std::string path = "/no-such-path-EchoMarker/%3Cscript%3E";
  for (const auto& url : {user_service_url(), transaction_service_url()}) {
    const auto missing = raw_exchange(url, http_request("GET", path, {}, "", false));
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body.find("EchoMarker"), std::string::npos) << missing.body;
    EXPECT_EQ(missing.body.find("script"), std::string::npos) << missing.body;
  }
  const auto wrong =
      raw_exchange(transaction_service_url(), http_request("DELETE", "/addMoney", {}, "", false));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.body.find("/addMoney"), std::string::npos) << wrong.body;
}

// After a request Pistache cannot parse, nothing more is read from that connection: a valid
// request pipelined behind the broken one must not run (its framing cannot be trusted).
TEST(BadInputTest, NothingIsExecutedAfterAMalformedRequestOnTheSameConnection) {
  pqxx::connection ledger_db(transaction_db_url());
  const auto ids = create_accounts(ledger_db, 1);
  RawHttpConnection connection(transaction_service_url());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.send("BREW /addMoney HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
  auto rejected = connection.read_response();
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.headers["connection"], "close");
  const std::string deposit = nlohmann::json{{"user_id", ids[0]}, {"amount", "5.00"}}.dump();
  connection.send(
      http_request("POST", "/addMoney", {{"Content-Type", "application/json"}}, deposit));
  const auto ignored = connection.read_response(2s);
  EXPECT_EQ(ignored.status, 0) << ignored.body;
  EXPECT_EQ(db_balance(ledger_db, ids[0]), "0.00");
}

}  // namespace
}  // namespace wallet::test
