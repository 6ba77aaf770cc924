// Unit tests of domain/outcomes: every typed outcome encodes to the exact bytes the contract's
// answers had when actors built them (stored outcomes of earlier versions replay unchanged), and
// a refusal read back from its encoded form (an answer from another instance) is the same refusal.
#include "domain/outcomes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wallet::domain {
namespace {

AnswerForm account_form() { return AnswerForm{2, "EUR", "user-a", "user-b"}; }

TEST(OutcomesTest, ADepositEncodesTheUserFormAndTheAccountForm) {
  Deposited deposit{"u-1", "t-1", 1250, {}};
  EXPECT_EQ(status_of(deposit), 200);
  EXPECT_EQ(encode(deposit).body,
            R"({"transaction_id":"t-1","updated_balance":"12.50","user_id":"u-1"})");
  deposit.form = account_form();
  EXPECT_EQ(encode(deposit).body, R"({"account_id":"u-1","currency":"EUR","transaction_id":"t-1",)"
                                  R"("updated_balance":"12.50","user_id":"user-a"})");
}

TEST(OutcomesTest, ATransferWritesMoneyWithItsCurrencysExponent) {
  Transferred transfer{"x-1", "a", "b", 1500, -20, AnswerForm{0, "JPY", "user-a", "user-b"}};
  const auto encoded = encode(transfer);
  EXPECT_EQ(encoded.status, 200);
  EXPECT_EQ(
      encoded.body,
      R"({"amount":"1500","currency":"JPY","from_account_id":"a","from_balance":"-20",)"
      R"("from_user_id":"user-a","to_account_id":"b","to_user_id":"user-b","transfer_id":"x-1"})");
  transfer.form = {};
  EXPECT_EQ(encode(transfer).body,
            R"({"amount":"15.00","from_balance":"-0.20","from_user_id":"a","to_user_id":"b",)"
            R"("transfer_id":"x-1"})");
}

TEST(OutcomesTest, HoldsEncodeTheirLifecycle) {
  HoldPlaced placed{"h-1", "a", "b", 300, 1'700'000'000'123, 700, {}};
  EXPECT_EQ(status_of(placed), 201);
  EXPECT_EQ(
      encode(placed).body,
      R"({"amount":"3.00","available_balance":"7.00","expires_at":"2023-11-14T22:13:20.123Z",)"
      R"("from_user_id":"a","hold_id":"h-1","status":"pending","to_user_id":"b"})");
  placed.form = account_form();
  EXPECT_EQ(encode(placed).body,
            R"({"amount":"3.00","available_balance":"7.00","currency":"EUR",)"
            R"("expires_at":"2023-11-14T22:13:20.123Z","from_account_id":"a",)"
            R"("from_user_id":"user-a","hold_id":"h-1","status":"pending","to_account_id":"b",)"
            R"("to_user_id":"user-b"})");
  EXPECT_EQ(encode(HoldCaptured{"h-1", "x-2", 300, 400, {}}).body,
            R"({"amount":"3.00","from_balance":"4.00","hold_id":"h-1","status":"captured",)"
            R"("transfer_id":"x-2"})");
  EXPECT_EQ(encode(HoldVoided{"h-1"}).body, R"({"hold_id":"h-1","status":"voided"})");
}

TEST(OutcomesTest, ARefusalIsTheContractsErrorBodyAndReadsBack) {
  const Error error{ErrorCode::insufficient_funds, "not enough", "acc-1"};
  const auto encoded = encode(Refused{error});
  EXPECT_EQ(encoded.status, 409);
  EXPECT_EQ(encoded.body, error_body(error));
  const auto decoded = decode_refusal(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->code, ErrorCode::insufficient_funds);
  EXPECT_EQ(decoded->message, "not enough");
  EXPECT_EQ(decoded->account_id, "acc-1");
}

TEST(OutcomesTest, AnEncodedOutcomeIsKeptByteForByte) {
  // A replay: whatever was stored, including bodies of earlier versions and bare statuses.
  const Encoded stored{201, R"({ "spaced" : true })"};
  EXPECT_EQ(status_of(stored), 201);
  EXPECT_EQ(encode(stored).body, stored.body);
  EXPECT_EQ(encode(Encoded{0, ""}).status, 0);
}

TEST(OutcomesTest, OnlyTheContractsErrorBodyDecodesAsARefusal) {
  EXPECT_FALSE(decode_refusal({409, "not json"}));
  EXPECT_FALSE(decode_refusal({201, R"({"hold_id":"h"})"}));
  EXPECT_FALSE(decode_refusal({409, R"({"error":{"code":"no_such_code","message":"m"}})"}));
  EXPECT_FALSE(decode_refusal({409, R"({"error":"insufficient_funds"})"}));
}

}  // namespace
}  // namespace wallet::domain
