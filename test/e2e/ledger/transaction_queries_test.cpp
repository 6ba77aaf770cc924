// The queries of SPEC.md section 8 ("Metadata, queries, balances in the past") as a client sees
// them, against a transaction-service of the test's own (built beside the test, on the stack's
// Postgres, Kafka and NATS; users come from the stack's user-service): GET /transactions by
// account, reference and metadata (one and two keys), alone and together, and by time; paging
// with the cursor covers every transaction once, newest first; GET /accounts/{id}/transactions
// pages an account's rows as /users/{id}/transactions does; GET /accounts/{id}/balance?at= is
// exact at instants between transactions and on a row's own instant, and 0 before the first row;
// bad input is a 400 naming it (or 404 for an unknown account) and changes nothing.
#include "persistence/transaction_queries.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/ids.hpp"
#include "test/e2e/bridges/user_flows.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kAccountWait = 20s;  // user-created -> default account, through Kafka
// Between an instant the test records and a request: the service's and Postgres' clocks are this
// machine's, so a few milliseconds keep each transaction strictly between two recorded instants.
constexpr auto kApart = 30ms;

// Now, as RFC 3339 UTC with microseconds.
std::string now_text() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return persistence::format_instant_us(us);
}

// An instant between two requests: taken a little after the first answer and a little before the
// second is sent.
std::string instant_between() {
  std::this_thread::sleep_for(kApart);
  auto at = now_text();
  std::this_thread::sleep_for(kApart);
  return at;
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" moved by `delta_us`.
std::string shifted(const std::string& text, int64_t delta_us) {
  std::tm utc{};
  utc.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  utc.tm_mon = std::stoi(text.substr(5, 2)) - 1;
  utc.tm_mday = std::stoi(text.substr(8, 2));
  utc.tm_hour = std::stoi(text.substr(11, 2));
  utc.tm_min = std::stoi(text.substr(14, 2));
  utc.tm_sec = std::stoi(text.substr(17, 2));
  const int64_t micros = std::stoll(text.substr(20, 6));
  return persistence::format_instant_us(static_cast<int64_t>(timegm(&utc)) * 1'000'000 + micros +
                                        delta_us);
}

class TransactionQueriesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    port_ = free_port();
    service_ = std::make_unique<ServiceProcess>(bin_dir() + "/transaction-service",
                                                private_transaction_service_env(port_, "queries"),
                                                "transaction-service-queries");
    service_->start();
    ASSERT_TRUE(service_->wait_ready(url(), 60s)) << service_->log_path();
  }
  static void TearDownTestSuite() {
    if (service_) service_->terminate(15s);
    service_.reset();
  }
  static std::string url() { return "http://127.0.0.1:" + std::to_string(port_); }

  void SetUp() override { ASSERT_TRUE(service_ && service_->running()); }

  // A user of the stack's user-service, once its default account is open.
  std::string make_user() {
    auto created = create_user(users_, unique_email("queries"));
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.json().value("user_id", "");
    EXPECT_TRUE(wait_for_account(ledger_, id, kAccountWait)) << "no default account for " << id;
    return id;
  }
  std::string open_account(const std::string& user_id, const std::string& currency) {
    auto r = ledger_.post("/accounts", json{{"user_id", user_id}, {"currency", currency}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("account_id", "");
  }
  // POST /transactions; the new transaction's id.
  std::string transact(const std::vector<json>& postings, const json& metadata = nullptr,
                       const std::string& reference = "") {
    json body{{"postings", json(postings)}};
    if (!metadata.is_null()) body["metadata"] = metadata;
    if (!reference.empty()) body["reference"] = reference;
    auto r = ledger_.post("/transactions", body.dump());
    EXPECT_EQ(r.status, 201) << body.dump() << " -> " << r.body;
    return r.json().value("transaction_id", "");
  }
  static json posting(const std::string& from, const std::string& to, const std::string& amount,
                      const std::string& currency = "EUR") {
    return {{"from", from}, {"to", to}, {"amount", amount}, {"currency", currency}};
  }

  json get_ok(const std::string& path) {
    auto r = ledger_.get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  // Every item of a page is what GET /transactions/{id} answers for it.
  void expect_items_as_read_alone(const json& items) {
    for (const auto& item : items) {
      const auto id = item.value("transaction_id", "");
      EXPECT_EQ(item, get_ok("/transactions/" + id)) << "item " << id;
    }
  }
  // The ids of GET /transactions?<query> (one page of up to 1000).
  std::vector<std::string> ids_of(const std::string& query) {
    auto page = get_ok("/transactions?" + query + "&limit=1000");
    std::vector<std::string> ids;
    for (const auto& item : page["transactions"]) ids.push_back(item.value("transaction_id", ""));
    EXPECT_TRUE(page["next_cursor"].is_null()) << query;
    expect_items_as_read_alone(page["transactions"]);
    return ids;
  }
  // Every page of `path` (with its query) at `limit`, following next_cursor; `key` names the id.
  std::vector<std::string> paged(const std::string& path, int limit, const std::string& key) {
    std::vector<std::string> ids;
    std::string before;
    for (int page = 0; page < 500; ++page) {
      const char* sep = path.find('?') == std::string::npos ? "?" : "&";
      auto body = get_ok(path + sep + "limit=" + std::to_string(limit) +
                         (before.empty() ? "" : "&before=" + url_encode(before)));
      EXPECT_LE(body["transactions"].size(), static_cast<size_t>(limit));
      for (const auto& item : body["transactions"]) ids.push_back(item.value(key, ""));
      if (body["next_cursor"].is_null()) return ids;
      EXPECT_EQ(body["transactions"].size(), static_cast<size_t>(limit)) << "a short page before "
                                                                            "the last";
      before = body["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "more than 500 pages of " << path;
    return ids;
  }
  std::string balance_at(const std::string& account, const std::string& at) {
    return get_ok("/accounts/" + account + "/balance?at=" + url_encode(at)).value("balance", "?");
  }

  static inline int port_ = 0;
  static inline std::unique_ptr<ServiceProcess> service_;
  HttpClient users_{user_service_url()};
  HttpClient ledger_{url()};
  const std::string tag_ = domain::new_uuid_v4().substr(0, 8);
};

std::vector<std::string> reversed(std::vector<std::string> ids) {
  return std::vector<std::string>(ids.rbegin(), ids.rend());
}

TEST_F(TransactionQueriesTest, FiltersByAccountReferenceAndMetadataCombine) {
  const auto user = make_user();
  const auto a = open_account(user, "EUR"), b = open_account(user, "EUR");
  const auto t1 =
      transact({posting("@world", a, "100.00")},
               {{"order", "o-" + tag_}, {"kind", "topup-" + tag_}}, "ref-" + tag_ + "-1");
  const auto t2 = transact({posting(a, b, "10.00")},
                           {{"order", "o-" + tag_}, {"kind", "pay-" + tag_}}, "ref-" + tag_ + "-2");
  const auto t3 =
      transact({posting(a, b, "5.00"), posting(a, "@world", "1.00")}, {{"kind", "pay-" + tag_}});
  const auto t4 = transact({posting(b, "@world", "2.00")});
  // Operations of the release 1 and 2 endpoints count by account (no reference or metadata).
  auto deposit = ledger_.post("/addMoney", json{{"account_id", a}, {"amount", "3.00"}}.dump());
  ASSERT_EQ(deposit.status, 200) << deposit.body;
  auto transfer = ledger_.post(
      "/transferMoney",
      json{{"from_account_id", a}, {"to_account_id", b}, {"amount_to_transfer", "4.00"}}.dump());
  ASSERT_EQ(transfer.status, 200) << transfer.body;
  const auto d = deposit.json()["transaction_id"].get<std::string>();
  const auto f = transfer.json()["transfer_id"].get<std::string>();

  EXPECT_EQ(ids_of("account_id=" + a), reversed({t1, t2, t3, d, f}));
  EXPECT_EQ(ids_of("account_id=" + b), reversed({t2, t3, t4, f}));
  EXPECT_EQ(ids_of("reference=ref-" + tag_ + "-1"), std::vector<std::string>{t1});
  EXPECT_EQ(ids_of("reference=ref-" + tag_ + "-1&account_id=" + b), std::vector<std::string>{});
  EXPECT_EQ(ids_of("reference=ref-" + tag_ + "-2&account_id=" + b), std::vector<std::string>{t2});
  EXPECT_EQ(ids_of("metadata.order=o-" + tag_), reversed({t1, t2}));
  EXPECT_EQ(ids_of("metadata.kind=pay-" + tag_), reversed({t2, t3}));
  EXPECT_EQ(ids_of("metadata.order=o-" + tag_ + "&metadata.kind=pay-" + tag_),
            std::vector<std::string>{t2});
  EXPECT_EQ(ids_of("metadata.kind=pay-" + tag_ + "&account_id=" + b), reversed({t2, t3}));
  EXPECT_EQ(ids_of("metadata.kind=topup-" + tag_ + "&account_id=" + b), std::vector<std::string>{});
  EXPECT_EQ(ids_of("metadata.order=o-" + tag_ + "&reference=ref-" + tag_ + "-2"),
            std::vector<std::string>{t2});
  EXPECT_EQ(ids_of("metadata.order=nothing-" + tag_), std::vector<std::string>{});
  // An account nobody has: nothing matches (the filter is not a lookup).
  EXPECT_EQ(ids_of("account_id=" + domain::new_uuid_v4()), std::vector<std::string>{});
  // The release 1 and 2 operations are shown as transactions of one posting.
  auto page = get_ok("/transactions?account_id=" + b + "&limit=1");
  ASSERT_EQ(page["transactions"].size(), 1u);
  EXPECT_EQ(page["transactions"][0]["postings"], json::array({posting(a, b, "4.00")}));
  EXPECT_TRUE(page["next_cursor"].is_string());
}

TEST_F(TransactionQueriesTest, PagingCoversEveryTransactionOnceNewestFirst) {
  const auto user = make_user();
  const auto a = open_account(user, "EUR"), b = open_account(user, "EUR");
  std::vector<std::string> made;  // oldest first
  made.push_back(transact({posting("@world", a, "500.00")}, {{"series", tag_}}));
  for (int i = 0; i < 22; ++i) {
    switch (i % 4) {
      case 0:  // two postings from the account: two of its rows, one transaction
        made.push_back(
            transact({posting(a, b, "1.00"), posting(a, "@world", "0.10")}, {{"series", tag_}}));
        break;
      case 1:
        made.push_back(transact({posting(b, a, "0.50")}, {{"series", tag_}}));
        break;
      case 2: {
        auto r = ledger_.post("/addMoney", json{{"account_id", a}, {"amount", "2.00"}}.dump());
        ASSERT_EQ(r.status, 200) << r.body;
        made.push_back(r.json()["transaction_id"].get<std::string>());
        break;
      }
      default: {
        auto r = ledger_.post(
            "/transferMoney",
            json{{"from_account_id", a}, {"to_account_id", b}, {"amount_to_transfer", "0.25"}}
                .dump());
        ASSERT_EQ(r.status, 200) << r.body;
        made.push_back(r.json()["transfer_id"].get<std::string>());
      }
    }
  }
  const auto newest_first = reversed(made);
  for (int limit : {1, 2, 5, 23, 1000}) {
    const auto ids = paged("/transactions?account_id=" + a, limit, "transaction_id");
    EXPECT_EQ(ids, newest_first) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  }
  std::vector<std::string> recorded;  // the transactions of POST /transactions, newest first
  for (size_t i = 0; i < made.size(); ++i) {
    if (i == 0 || (i - 1) % 4 < 2) recorded.push_back(made[i]);
  }
  recorded = reversed(recorded);
  for (int limit : {1, 4, 1000}) {
    EXPECT_EQ(paged("/transactions?metadata.series=" + tag_, limit, "transaction_id"), recorded)
        << "limit " << limit;
  }
  // The account's rows: each once, newest first, whatever the page size; a transaction of two
  // postings from the account is two rows.
  const auto rows = paged("/accounts/" + a + "/transactions", 1000, "id");
  EXPECT_EQ(rows.size(), made.size() + 6);  // 6 transactions with two rows on the account
  for (int limit : {1, 3, 7}) {
    EXPECT_EQ(paged("/accounts/" + a + "/transactions", limit, "id"), rows) << "limit " << limit;
  }
}

TEST_F(TransactionQueriesTest, TimeRangesSelectTheTransactionsBetweenInstants) {
  const auto user = make_user();
  const auto a = open_account(user, "EUR");
  std::vector<std::string> at{instant_between()};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(transact({posting("@world", a, "1.00")}, {{"range", tag_}}));
    at.push_back(instant_between());
  }
  for (const auto& filter : {"account_id=" + a, "metadata.range=" + tag_}) {
    SCOPED_TRACE(filter);
    auto between = [&](const std::string& range) { return ids_of(filter + range); };
    EXPECT_EQ(between("&from=" + url_encode(at[1]) + "&to=" + url_encode(at[3])),
              reversed({ids[1], ids[2]}));
    EXPECT_EQ(between("&from=" + url_encode(at[1])), reversed({ids[1], ids[2]}));
    EXPECT_EQ(between("&to=" + url_encode(at[1])), std::vector<std::string>{ids[0]});
    EXPECT_EQ(between("&from=" + url_encode(at[1]) + "&to=" + url_encode(at[2])),
              std::vector<std::string>{ids[1]});
    EXPECT_EQ(between("&from=" + url_encode(at[3])), std::vector<std::string>{});
    EXPECT_EQ(between("&from=" + url_encode(at[2]) + "&to=" + url_encode(at[2])),
              std::vector<std::string>{});
  }
  // The rows of the account in the same ranges; a range with a cursor pages within it.
  const std::string rows = "/accounts/" + a + "/transactions?from=" + url_encode(at[1]);
  EXPECT_EQ(paged(rows, 1, "id").size(), 2u);
  EXPECT_EQ(paged(rows + "&to=" + url_encode(at[2]), 1, "id").size(), 1u);
  EXPECT_EQ(
      paged("/transactions?account_id=" + a + "&to=" + url_encode(at[3]), 1, "transaction_id"),
      reversed(ids));
}

TEST_F(TransactionQueriesTest, BalanceAtIsExactBetweenTransactionsAndOnTheirInstants) {
  const auto user = make_user();
  const auto a = open_account(user, "EUR"), b = open_account(user, "EUR");
  const auto before_all = instant_between();
  transact({posting("@world", a, "100.00")});
  const auto after_first = instant_between();
  transact({posting(a, b, "30.25")});
  const auto after_second = instant_between();
  transact({posting(a, "@world", "0.75"), posting(b, a, "1.00")});
  const auto after_third = instant_between();

  EXPECT_EQ(balance_at(a, "2000-01-01T00:00:00Z"), "0.00");
  EXPECT_EQ(balance_at(a, before_all), "0.00");
  EXPECT_EQ(balance_at(a, after_first), "100.00");
  EXPECT_EQ(balance_at(a, after_second), "69.75");
  EXPECT_EQ(balance_at(a, after_third), "70.00");
  EXPECT_EQ(balance_at(b, after_first), "0.00");
  EXPECT_EQ(balance_at(b, after_second), "30.25");
  EXPECT_EQ(balance_at(b, after_third), "29.25");
  // Now, with and without `at`.
  auto now = get_ok("/accounts/" + a + "/balance");
  EXPECT_EQ(now, (json{{"account_id", a},
                       {"currency", "EUR"},
                       {"balance", "70.00"},
                       {"at", now.value("at", "")}}));
  EXPECT_EQ(balance_at(a, "9999-12-31T23:59:59.999999Z"), "70.00");
  // On a row's own instant it counts; a microsecond before, it does not. (The two rows of the
  // third transaction share their commit's instant: the balance after both, before both.)
  auto rows = get_ok("/accounts/" + a + "/transactions")["transactions"];
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto instant = rows[i]["created_at"].get<std::string>();
    size_t oldest = i, newest = i;
    while (newest > 0 && rows[newest - 1]["created_at"] == instant) --newest;
    while (oldest + 1 < rows.size() && rows[oldest + 1]["created_at"] == instant) ++oldest;
    EXPECT_EQ(balance_at(a, instant), rows[newest]["new_balance"]) << instant;
    EXPECT_EQ(balance_at(a, shifted(instant, -1)), rows[oldest]["old_balance"]) << instant;
  }
  // The same instant written with an offset, with more digits than microseconds (rounded down:
  // at or before), and with the '+' of its offset left unencoded (a blank in a query string).
  const auto first = rows[3]["created_at"].get<std::string>();
  const auto in_paris = shifted(first, 3'600'000'000LL).substr(0, 26) + "+01:00";
  EXPECT_EQ(balance_at(a, in_paris), "100.00");
  EXPECT_EQ(balance_at(a, first.substr(0, 26) + "999Z"), "100.00");
  EXPECT_EQ(balance_at(a, shifted(first, -1).substr(0, 26) + "999Z"), "0.00");
  auto blank = get_ok("/accounts/" + a + "/balance?at=" + in_paris);  // '+' unencoded
  EXPECT_EQ(blank.value("balance", "?"), "100.00") << blank.dump();
  EXPECT_EQ(blank.value("at", "?"), first);
  // Currencies keep their exponent.
  const auto yen = open_account(user, "JPY");
  transact({posting("@world", yen, "1500", "JPY")});
  EXPECT_EQ(balance_at(yen, "9999-12-31T23:59:59Z"), "1500");
  EXPECT_EQ(balance_at(yen, before_all), "0");
}

TEST_F(TransactionQueriesTest, AccountRowsArePagedAsTheUserHistory) {
  const auto user = make_user();
  for (int i = 0; i < 5; ++i) {
    auto r = ledger_.post("/addMoney", json{{"user_id", user}, {"amount", "1.10"}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  transact({posting(user, "@world", "0.60", "USD")});
  auto history = get_ok("/users/" + user + "/transactions?limit=1000")["transactions"];
  auto page = get_ok("/accounts/" + user + "/transactions?limit=1000");
  EXPECT_EQ(page["account_id"], user);
  EXPECT_EQ(page["currency"], "USD");
  EXPECT_TRUE(page["next_cursor"].is_null());
  ASSERT_EQ(page["transactions"].size(), 6u);
  ASSERT_EQ(history.size(), 6u);
  for (size_t i = 0; i < history.size(); ++i) {
    auto row = page["transactions"][i];
    for (const auto& [key, value] : history[i].items()) EXPECT_EQ(row[key], value) << key;
    EXPECT_EQ(row["account_id"], user);
    EXPECT_EQ(row["currency"], "USD");
    EXPECT_TRUE(domain::is_uuid(row["transaction_id"].get<std::string>()));
  }
  EXPECT_EQ(page["transactions"][0]["kind"], "withdrawal");
  EXPECT_EQ(page["transactions"][0]["new_balance"], "4.90");
  auto first = get_ok("/accounts/" + user + "/transactions?limit=4");
  EXPECT_EQ(first["transactions"].size(), 4u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  auto rest = get_ok("/accounts/" + user + "/transactions?limit=4&before=" +
                     url_encode(first["next_cursor"].get<std::string>()));
  EXPECT_EQ(rest["transactions"].size(), 2u);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(rest["transactions"][1], page["transactions"][5]);
}

TEST_F(TransactionQueriesTest, BadInputIs400AndChangesNothing) {
  const auto user = make_user();
  const auto a = open_account(user, "EUR");
  transact({posting("@world", a, "4.50")}, {{"k", tag_}}, "ref-" + tag_);
  transact({posting("@world", a, "4.50")}, {{"k", tag_}});
  const auto metadata_cursor = get_ok("/transactions?metadata.k=" + tag_ + "&limit=1");
  const auto history_cursor = get_ok("/users/" + user + "/transactions?limit=1");
  pqxx::connection db(transaction_db_url());
  const auto rows_before = count_rows(
      db, "SELECT count(*) FROM transactions WHERE account_id = ANY($1::uuid[])", {a, user});

  struct Case {
    std::string path, code;
    int status = 400;
  };
  const std::string q = "/transactions?account_id=" + a;
  const std::string long_key(65, 'k'), long_value(257, 'v'), long_ref(129, 'r');
  std::string seventeen = "/transactions?";
  for (int i = 0; i < 17; ++i) seventeen += "metadata.k" + std::to_string(i) + "=v&";
  std::vector<Case> cases{
      {"/transactions", "invalid_filter"},
      {"/transactions?limit=5&from=2030-01-01T00:00:00Z", "invalid_filter"},
      {q + "&acount_id=" + a, "invalid_filter"},
      {"/transactions?metadata=x", "invalid_filter"},
      {"/transactions?account_id=nope", "invalid_account_id"},
      {"/transactions?account_id=", "invalid_account_id"},
      {q + "&from=yesterday", "invalid_time"},
      {q + "&from=", "invalid_time"},
      {q + "&to=2030-13-01T00:00:00Z", "invalid_time"},
      {q + "&to=2030-02-30T00:00:00Z", "invalid_time"},
      {q + "&from=2030-01-01T00:00:00", "invalid_time"},
      {q + "&from=0000-01-01T00:00:00Z", "invalid_time"},
      {q + "&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "invalid_time"},
      {q + "&limit=0", "invalid_limit"},
      {q + "&limit=1001", "invalid_limit"},
      {q + "&limit=abc", "invalid_limit"},
      {q + "&limit=-1", "invalid_limit"},
      {q + "&limit=", "invalid_limit"},
      {q + "&before=garbage", "invalid_cursor"},
      {q + "&before=", "invalid_cursor"},
      {q + "&before=" +
           url_encode(metadata_cursor["next_cursor"].is_string()
                          ? metadata_cursor["next_cursor"].get<std::string>()
                          : "x"),
       "invalid_cursor"},
      {q + "&before=" +
           url_encode(history_cursor["next_cursor"].is_string()
                          ? history_cursor["next_cursor"].get<std::string>()
                          : "x"),
       "invalid_cursor"},
      {"/transactions?reference=", "invalid_reference"},
      {"/transactions?reference=" + long_ref, "invalid_reference"},
      {"/transactions?reference=a%01b", "invalid_reference"},
      {"/transactions?reference=%FF", "invalid_reference"},
      {"/transactions?metadata.=x", "invalid_metadata"},
      {"/transactions?metadata." + long_key + "=x", "invalid_metadata"},
      {"/transactions?metadata.k=" + long_value, "invalid_metadata"},
      {seventeen, "invalid_metadata"},
      {"/transactions?metadata.k=%FF%FE", "invalid_metadata"},
      {"/transactions?metadata.k=a%00b", "invalid_metadata"},
      {"/accounts/nope/transactions", "invalid_account_id"},
      {"/accounts/" + domain::new_uuid_v4() + "/transactions", "account_not_found", 404},
      {"/accounts/" + a + "/transactions?limit=0", "invalid_limit"},
      {"/accounts/" + a + "/transactions?before=garbage", "invalid_cursor"},
      {"/accounts/" + a + "/transactions?from=bad", "invalid_time"},
      {"/accounts/nope/balance", "invalid_account_id"},
      {"/accounts/" + domain::new_uuid_v4() + "/balance", "account_not_found", 404},
      {"/accounts/" + domain::new_uuid_v4() + "/balance?at=2030-01-01T00:00:00Z",
       "account_not_found", 404},
      {"/accounts/" + a + "/balance?at=", "invalid_time"},
      {"/accounts/" + a + "/balance?at=now", "invalid_time"},
      {"/accounts/" + a + "/balance?at=2030-01-01", "invalid_time"},
      {"/accounts/" + a + "/balance?at=10000-01-01T00:00:00Z", "invalid_time"},
      {"/accounts/" + a + "/balance?at=0001-01-01T00:00:00%2B00:01", "invalid_time"},
  };
  for (const auto& c : cases) {
    auto r = ledger_.get(c.path);
    EXPECT_EQ(r.status, c.status) << c.path << " -> " << r.body;
    EXPECT_EQ(r.error_code(), c.code) << c.path << " -> " << r.body;
    EXPECT_TRUE(r.json()["error"]["message"].is_string()) << c.path << " -> " << r.body;
  }
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM transactions WHERE account_id = ANY($1::uuid[])",
                       {a, user}),
            rows_before);
  EXPECT_EQ(get_ok("/accounts/" + a).value("balance", "?"), "9.00");
  // What the rules allow at their edges is not refused.
  EXPECT_EQ(ledger_.get(q + "&limit=1000&from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z").status,
            200);
  EXPECT_EQ(ledger_.get("/transactions?reference=" + std::string(128, 'r')).status, 200);
  EXPECT_EQ(
      ledger_.get("/transactions?metadata." + std::string(64, 'k') + "=" + std::string(256, 'v'))
          .status,
      200);
  EXPECT_EQ(ledger_.get("/transactions?metadata.k=").status, 200);
}

}  // namespace
}  // namespace wallet::test
