// Withdrawals, holds and paged history of transaction-service's HTTP contract as a client sees it
// (SPEC.md "Added in release 2"): withdrawals against the available balance, holds (create, capture
// whole or in part, void, read, expiry by themselves), idempotency of each, and paged history with
// an opaque cursor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/eventually.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

std::string money_body(const std::string& user_id, const std::string& amount) {
  return R"({"user_id":")" + user_id + R"(","amount":")" + amount + R"("})";
}

std::string hold_body(const std::string& from, const std::string& to, const std::string& amount,
                      const std::string& extra = "") {
  return R"({"from_user_id":")" + from + R"(","to_user_id":")" + to + R"(","amount":")" + amount +
         "\"" + extra + "}";
}

// "2030-01-01T00:00:00.123Z" (the service's expires_at) as a time point.
std::chrono::system_clock::time_point parse_expires_at(const std::string& text) {
  std::tm utc{};
  int millis = 0;
  std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
              &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &millis);
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&utc)) + std::chrono::milliseconds(millis);
}

class HoldsAndWithdrawalsTest : public ::testing::Test {
 protected:
  void SetUp() override { ids_ = create_accounts(db_, 3); }

  void deposit(int who, const std::string& amount) {
    auto r = client_.post("/addMoney", money_body(ids_[who], amount));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResponse withdraw(int who, const std::string& amount, const HttpHeaders& headers = {}) {
    return client_.post("/withdrawMoney", money_body(ids_[who], amount), headers);
  }
  HttpResponse hold(int from, int to, const std::string& amount, const std::string& extra = "",
                    const HttpHeaders& headers = {}) {
    return client_.post("/holds", hold_body(ids_[from], ids_[to], amount, extra), headers);
  }
  nlohmann::json balance(int who) { return client_.get("/users/" + ids_[who] + "/balance").json(); }
  std::string hold_status(const std::string& hold_id) {
    return client_.get("/holds/" + hold_id).json().value("status", "");
  }

  pqxx::connection db_{transaction_db_url()};
  HttpClient client_{transaction_service_url()};
  std::vector<std::string> ids_;
};

TEST_F(HoldsAndWithdrawalsTest, WithdrawalTakesMoneyOutAgainstTheAvailableBalance) {
  deposit(0, "100.00");
  auto r = withdraw(0, "30.00");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["user_id"], ids_[0]);
  EXPECT_EQ(r.json()["updated_balance"], "70.00");
  EXPECT_TRUE(domain::is_uuid(r.json()["transaction_id"].get<std::string>()));
  auto rows = client_.get("/users/" + ids_[0] + "/transactions").json()["transactions"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["kind"], "withdrawal");
  EXPECT_EQ(rows[0]["balance_change"], "-30.00");
  EXPECT_EQ(rows[0]["old_balance"], "100.00");
  EXPECT_EQ(rows[0]["new_balance"], "70.00");
  EXPECT_TRUE(rows[0]["transfer_id"].is_null());
  EXPECT_EQ(rows[0]["id"], r.json()["transaction_id"]);

  // A pending hold of 50 leaves 20 available: 25 is refused, 20 goes through.
  ASSERT_EQ(hold(0, 1, "50.00").status, 201);
  auto refused = withdraw(0, "25.00");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.error_code(), "insufficient_funds");
  EXPECT_EQ(withdraw(0, "20.00").status, 200);
  EXPECT_EQ(
      balance(0),
      (nlohmann::json{{"user_id", ids_[0]}, {"balance", "50.00"}, {"available_balance", "0.00"}}));
  EXPECT_EQ(withdraw(0, "0.01").error_code(), "insufficient_funds");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, WithdrawalErrorsAndIdempotency) {
  deposit(0, "10.00");
  EXPECT_EQ(client_.post("/withdrawMoney", money_body(domain::new_uuid_v4(), "1.00")).error_code(),
            "user_not_found");
  for (const char* amount : {"0", "-1.00", "1.001", "1e3", ""}) {
    EXPECT_EQ(withdraw(0, amount).error_code(), "invalid_amount") << amount;
  }
  EXPECT_EQ(client_.post("/withdrawMoney", "{").error_code(), "invalid_json");
  EXPECT_EQ(client_.post("/withdrawMoney", R"({"user_id":"x","amount":"1.00"})").error_code(),
            "invalid_user_id");

  const HttpHeaders key{{"Idempotency-Key", domain::new_uuid_v4()}};
  auto first = withdraw(0, "4.00", key);
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = withdraw(0, "4.00", key);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(withdraw(0, "5.00", key).error_code(), "idempotency_key_mismatch");
  // Keys are scoped per endpoint: the same key on addMoney is a new operation.
  auto add = client_.post("/addMoney", money_body(ids_[0], "4.00"), key);
  EXPECT_EQ(add.status, 200);
  EXPECT_EQ(add.headers.count("idempotent-replayed"), 0u);
  // A refusal is an outcome too, replayed even after money arrived.
  const HttpHeaders big{{"Idempotency-Key", domain::new_uuid_v4()}};
  EXPECT_EQ(withdraw(0, "50.00", big).status, 409);
  deposit(0, "100.00");
  auto replayed = withdraw(0, "50.00", big);
  EXPECT_EQ(replayed.status, 409);
  EXPECT_EQ(replayed.headers["idempotent-replayed"], "true");
  EXPECT_EQ(db_balance(db_, ids_[0]), "110.00");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, ConcurrentWithdrawalsNeverOverdraw) {
  deposit(0, "50.00");
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      HttpClient mine(transaction_service_url(), 10s);
      for (int i = 0; i < 10; ++i) {
        auto r = mine.post("/withdrawMoney", money_body(ids_[0], "1.00"));
        if (r.status == 200) ++ok;
        if (r.status == 409) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(refused.load(), 30);
  EXPECT_EQ(db_balance(db_, ids_[0]), "0.00");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, HoldReservesThenCapturesPartOfItAsATransfer) {
  deposit(0, "100.00");
  auto created = hold(0, 1, "30.00", R"(,"timeout_seconds":600)");
  ASSERT_EQ(created.status, 201) << created.body;
  auto h = created.json();
  const std::string id = h["hold_id"];
  EXPECT_TRUE(domain::is_uuid(id));
  EXPECT_EQ(h["from_user_id"], ids_[0]);
  EXPECT_EQ(h["to_user_id"], ids_[1]);
  EXPECT_EQ(h["amount"], "30.00");
  EXPECT_EQ(h["status"], "pending");
  EXPECT_EQ(h["available_balance"], "70.00");
  ASSERT_TRUE(h["expires_at"].is_string());
  EXPECT_EQ(balance(0)["balance"], "100.00");  // nothing moved
  EXPECT_EQ(balance(0)["available_balance"], "70.00");
  auto read = client_.get("/holds/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["status"], "pending");
  EXPECT_EQ(read.json()["expires_at"], h["expires_at"]);
  EXPECT_TRUE(read.json()["transfer_id"].is_null());

  auto captured = client_.post("/holds/" + id + "/capture", R"({"amount":"12.50"})");
  ASSERT_EQ(captured.status, 200) << captured.body;
  auto c = captured.json();
  EXPECT_EQ(c["hold_id"], id);
  EXPECT_EQ(c["amount"], "12.50");
  EXPECT_EQ(c["status"], "captured");
  EXPECT_EQ(c["from_balance"], "87.50");
  EXPECT_EQ(balance(0), (nlohmann::json{{"user_id", ids_[0]},
                                        {"balance", "87.50"},
                                        {"available_balance", "87.50"}}));  // the rest released
  EXPECT_EQ(balance(1)["balance"], "12.50");
  auto payee = client_.get("/users/" + ids_[1] + "/transactions").json()["transactions"];
  ASSERT_EQ(payee.size(), 1u);
  EXPECT_EQ(payee[0]["kind"], "transfer_credit");
  EXPECT_EQ(payee[0]["transfer_id"], c["transfer_id"]);
  auto closed = client_.get("/holds/" + id).json();
  EXPECT_EQ(closed["status"], "captured");
  EXPECT_EQ(closed["transfer_id"], c["transfer_id"]);

  EXPECT_EQ(client_.post("/holds/" + id + "/capture", "{}").error_code(), "hold_not_pending");
  EXPECT_EQ(client_.post("/holds/" + id + "/capture", "{}").status, 409);
  EXPECT_EQ(client_.post("/holds/" + id + "/void", "{}").error_code(), "hold_not_pending");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, CaptureWithoutAmountTakesAllAndVoidReleasesAll) {
  deposit(0, "40.00");
  const std::string all = hold(0, 1, "40.00").json()["hold_id"];
  EXPECT_EQ(hold(0, 2, "0.01").error_code(), "insufficient_funds");
  auto captured = client_.post("/holds/" + all + "/capture", "");
  ASSERT_EQ(captured.status, 200) << captured.body;
  EXPECT_EQ(captured.json()["amount"], "40.00");
  EXPECT_EQ(captured.json()["from_balance"], "0.00");

  deposit(1, "5.00");  // 45.00 now
  const std::string voided = hold(1, 2, "45.00").json()["hold_id"];
  EXPECT_EQ(balance(1)["available_balance"], "0.00");
  auto v = client_.post("/holds/" + voided + "/void", "{}");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json(), (nlohmann::json{{"hold_id", voided}, {"status", "voided"}}));
  EXPECT_EQ(balance(1)["available_balance"], "45.00");
  EXPECT_EQ(hold_status(voided), "voided");
  EXPECT_EQ(client_.post("/holds/" + voided + "/capture", "{}").error_code(), "hold_not_pending");
  EXPECT_EQ(db_balance(db_, ids_[2]), "0.00");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, HoldErrorsChangeNothing) {
  deposit(0, "10.00");
  const std::string a = ids_[0], b = ids_[1];
  struct Case {
    std::string path, body, code;
    int status;
  };
  const std::string unknown = domain::new_uuid_v4();
  std::vector<Case> cases{
      {"/holds", hold_body(a, a, "1.00"), "same_account", 400},
      {"/holds", hold_body(a, b, "0"), "invalid_amount", 400},
      {"/holds", hold_body(a, b, "1.00", R"(,"timeout_seconds":0)"), "invalid_timeout", 400},
      {"/holds", hold_body(a, b, "1.00", R"(,"timeout_seconds":604801)"), "invalid_timeout", 400},
      {"/holds", hold_body(a, b, "1.00", R"(,"timeout_seconds":"10")"), "invalid_timeout", 400},
      {"/holds", hold_body(a, b, "1.00", R"(,"timeout_seconds":1.5)"), "invalid_timeout", 400},
      {"/holds", hold_body(a, b, "1.00", R"(,"timeout_seconds":-5)"), "invalid_timeout", 400},
      {"/holds", hold_body(a, "x", "1.00"), "invalid_user_id", 400},
      {"/holds", "{", "invalid_json", 400},
      {"/holds", hold_body(a, unknown, "1.00"), "user_not_found", 404},
      {"/holds", hold_body(unknown, b, "1.00"), "user_not_found", 404},
      {"/holds", hold_body(a, b, "10.01"), "insufficient_funds", 409},
      {"/holds/" + unknown + "/capture", "{}", "hold_not_found", 404},
      {"/holds/" + unknown + "/void", "{}", "hold_not_found", 404},
      {"/holds/nope/capture", "{}", "invalid_hold_id", 400},
      {"/holds/nope/void", "{}", "invalid_hold_id", 400},
  };
  for (const auto& c : cases) {
    auto r = client_.post(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << " -> " << r.body;
    EXPECT_EQ(r.error_code(), c.code) << c.body;
  }
  EXPECT_EQ(client_.get("/holds/" + unknown).error_code(), "hold_not_found");
  EXPECT_EQ(client_.get("/holds/nope").error_code(), "invalid_hold_id");
  const std::string id = hold(0, 1, "4.00").json()["hold_id"];
  auto over = client_.post("/holds/" + id + "/capture", R"({"amount":"4.01"})");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(over.error_code(), "invalid_amount");
  EXPECT_EQ(client_.post("/holds/" + id + "/void", R"({"amount":"1.00"})").error_code(),
            "invalid_amount");
  EXPECT_EQ(hold_status(id), "pending");
  EXPECT_EQ(
      count_rows(db_, "SELECT count(*) FROM holds WHERE from_user_id = ANY($1::uuid[])", ids_), 1);
  EXPECT_EQ(db_balance(db_, a), "10.00");
  EXPECT_EQ(db_balance(db_, b), "0.00");
}

TEST_F(HoldsAndWithdrawalsTest, HoldCaptureAndVoidAreIdempotentPerHold) {
  deposit(0, "100.00");
  const HttpHeaders key{{"Idempotency-Key", "hold-" + domain::new_uuid_v4()}};
  auto first = hold(0, 1, "10.00", "", key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = hold(0, 1, "10.00", "", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(hold(0, 1, "11.00", "", key).error_code(), "idempotency_key_mismatch");
  EXPECT_EQ(balance(0)["available_balance"], "90.00");  // one hold, not two

  const std::string h1 = first.json()["hold_id"];
  const std::string h2 = hold(0, 1, "20.00").json()["hold_id"];
  // One key, two holds: capture keys are scoped per hold.
  const HttpHeaders ck{{"Idempotency-Key", "capture-1"}};
  auto c1 = client_.post("/holds/" + h1 + "/capture", "{}", ck);
  ASSERT_EQ(c1.status, 200) << c1.body;
  auto c1again = client_.post("/holds/" + h1 + "/capture", "{}", ck);
  EXPECT_EQ(c1again.body, c1.body);
  EXPECT_EQ(c1again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(client_.post("/holds/" + h1 + "/capture", R"({"amount":"1.00"})", ck).error_code(),
            "idempotency_key_mismatch");
  auto c2 = client_.post("/holds/" + h2 + "/capture", R"({"amount":"5.00"})", ck);
  ASSERT_EQ(c2.status, 200) << c2.body;
  EXPECT_EQ(c2.headers.count("idempotent-replayed"), 0u);
  EXPECT_EQ(db_balance(db_, ids_[1]), "15.00");

  const std::string h3 = hold(0, 1, "1.00").json()["hold_id"];
  const HttpHeaders vk{{"Idempotency-Key", "void-1"}};
  auto v = client_.post("/holds/" + h3 + "/void", "{}", vk);
  ASSERT_EQ(v.status, 200);
  auto v2 = client_.post("/holds/" + h3 + "/void", "{}", vk);
  EXPECT_EQ(v2.body, v.body);
  EXPECT_EQ(v2.headers["idempotent-replayed"], "true");
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, HoldExpiresByItselfWithinASecond) {
  deposit(0, "10.00");
  auto created = hold(0, 1, "6.00", R"(,"timeout_seconds":1)");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["hold_id"];
  EXPECT_EQ(balance(0)["available_balance"], "4.00");
  ASSERT_TRUE(eventually([&] { return hold_status(id) == "expired"; }, 5s)) << hold_status(id);
  EXPECT_EQ(balance(0)["available_balance"], "10.00");
  {
    pqxx::nontransaction txn(db_);
    auto late = txn.exec_params(
        "SELECT extract(epoch FROM closed_at - expires_at) FROM holds WHERE hold_id = $1", id);
    const double seconds = late[0][0].as<double>();
    EXPECT_GE(seconds, 0.0);
    EXPECT_LT(seconds, 1.0) << "expired " << seconds << " s after expires_at";
  }
  EXPECT_EQ(client_.post("/holds/" + id + "/capture", "{}").error_code(), "hold_not_pending");
  EXPECT_EQ(client_.post("/holds/" + id + "/void", "{}").error_code(), "hold_not_pending");
  EXPECT_EQ(db_balance(db_, ids_[0]), "10.00");
}

// Capture, void and expiry of one hold, racing at expires_at: exactly one wins, and the ledger
// agrees with the winner. Each hold's capture and void are sent together at a moment around its
// own expires_at (from -150 ms to +125 ms), so every interleaving gets its chance.
TEST_F(HoldsAndWithdrawalsTest, RacingCaptureVoidAndExpiryHaveExactlyOneWinner) {
  deposit(0, "1000.00");
  constexpr int kHolds = 12;
  std::vector<std::string> holds;
  std::vector<std::chrono::system_clock::time_point> expires;
  for (int i = 0; i < kHolds; ++i) {
    auto r = hold(0, 1, "10.00", R"(,"timeout_seconds":3)");
    ASSERT_EQ(r.status, 201) << r.body;
    holds.push_back(r.json()["hold_id"]);
    expires.push_back(parse_expires_at(r.json()["expires_at"]));
  }
  std::atomic<int> captures{0}, voids{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kHolds; ++i) {
    for (int action = 0; action < 2; ++action) {
      threads.emplace_back([&, i, action] {
        HttpClient mine(transaction_service_url(), 10s);
        std::this_thread::sleep_until(expires[i] + std::chrono::milliseconds(25 * (i - 6)));
        auto r = mine.post("/holds/" + holds[i] + (action ? "/void" : "/capture"), "{}");
        if (r.status == 200) ++(action ? voids : captures);
        EXPECT_TRUE(r.status == 200 || r.error_code() == "hold_not_pending") << r.body;
      });
    }
  }
  for (auto& t : threads) t.join();
  int captured = 0, voided = 0, expired = 0;
  for (const auto& id : holds) {
    ASSERT_TRUE(eventually([&] { return hold_status(id) != "pending"; }, 5s));
    const std::string status = hold_status(id);
    captured += status == "captured";
    voided += status == "voided";
    expired += status == "expired";
  }
  std::printf("racing holds: %d captured, %d voided, %d expired\n", captured, voided, expired);
  EXPECT_EQ(captured + voided + expired, kHolds);
  EXPECT_EQ(captured, captures.load());
  EXPECT_EQ(voided, voids.load());
  EXPECT_EQ(db_balance(db_, ids_[1]), std::to_string(10 * captured) + ".00");
  EXPECT_EQ(count_rows(db_,
                       "SELECT count(*) FROM transactions WHERE user_id = ANY($1::uuid[])"
                       " AND kind = 'transfer_debit'",
                       ids_),
            captured);
  EXPECT_EQ(balance(0)["available_balance"], balance(0)["balance"]);
  EXPECT_TRUE(ledger_violations(db_, ids_).empty());
}

TEST_F(HoldsAndWithdrawalsTest, HistoryPagesThroughEverythingNewestFirstAndStaysStable) {
  for (int i = 1; i <= 25; ++i) deposit(0, std::to_string(i) + ".00");
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    std::string path = "/users/" + ids_[0] + "/transactions?limit=10";
    if (!cursor.empty()) path += "&before=" + url_encode(cursor);
    auto page = client_.get(path);
    ASSERT_EQ(page.status, 200) << page.body;
    auto body = page.json();
    for (const auto& row : body["transactions"]) seen.push_back(row["balance_change"]);
    ++pages;
    if (pages == 1) {
      // Rows arriving meanwhile land above the cursor and never shift the next pages.
      deposit(0, "100.00");
      deposit(0, "200.00");
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], std::to_string(25 - i) + ".00");
  // Exactly one page: no cursor.
  auto whole = client_.get("/users/" + ids_[0] + "/transactions?limit=1000").json();
  EXPECT_EQ(whole["transactions"].size(), 27u);
  EXPECT_TRUE(whole["next_cursor"].is_null());
  auto empty = client_.get("/users/" + ids_[2] + "/transactions").json();
  EXPECT_TRUE(empty["transactions"].empty());
  EXPECT_TRUE(empty["next_cursor"].is_null());
}

TEST_F(HoldsAndWithdrawalsTest, MalformedCursorIs400) {
  deposit(0, "1.00");
  // "abc", a JSON-ish value, the seq in clear, base64url of "v2:5", "v1:0", "v1:-1", "v1:01",
  // "v1:5x", and padding.
  for (const char* cursor : {"abc", "%7B%7D", "5", "djI6NQ", "djE6MA", "djE6LTE", "djE6MDE",
                             "djE6NXg", "djE6NQ==", "", "%00"}) {
    auto r = client_.get("/users/" + ids_[0] + "/transactions?before=" + cursor);
    EXPECT_EQ(r.status, 400) << cursor << " -> " << r.body;
    EXPECT_EQ(r.error_code(), "invalid_cursor") << cursor;
  }
  EXPECT_EQ(client_.get("/users/" + ids_[0] + "/transactions?before=djE6NQ").status, 200);
}

}  // namespace
}  // namespace wallet::test
