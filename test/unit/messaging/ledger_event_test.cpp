// The ledger-events wire contract (SPEC.md section 3) as encoded from outbox rows: exactly the
// contract's fields in order, nulls where SPEC says, text escaped. Pure: no server.
#include "messaging/ledger_event.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wallet::messaging {
namespace {

TEST(LedgerEventTest, LedgerRowIsEncodedWithExactlyTheContractFieldsInOrder) {
  LedgerOutboxRow row;
  row.event_id = "6f1c1f7e-0000-4000-8000-000000000001";
  row.user_id = "0e4a3f57-2a7b-4c1d-9e3f-1234567890ab";
  row.account_id = "0e4a3f57-2a7b-4c1d-9e3f-1234567890ab";  // the user's default account
  row.currency = "USD";
  row.transaction_id = "7a000000-0000-4000-8000-000000000002";
  row.kind = "transfer_debit";
  row.balance_change = "-12.50";
  row.old_balance = "100.00";
  row.new_balance = "87.50";
  row.transfer_id = "7b000000-0000-4000-8000-000000000003";
  row.created_at = "2026-12-02T04:00:00.123456Z";
  EXPECT_EQ(encode_ledger_event(row),
            R"({"event_id":"6f1c1f7e-0000-4000-8000-000000000001",)"
            R"("transaction_id":"7a000000-0000-4000-8000-000000000002",)"
            R"("user_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab",)"
            R"("account_id":"0e4a3f57-2a7b-4c1d-9e3f-1234567890ab","currency":"USD",)"
            R"("kind":"transfer_debit",)"
            R"("balance_change":"-12.50","old_balance":"100.00","new_balance":"87.50",)"
            R"("transfer_id":"7b000000-0000-4000-8000-000000000003",)"
            R"("created_at":"2026-12-02T04:00:00.123456Z"})");
  row.kind = "deposit";
  row.transfer_id = {};
  row.currency = {};  // a row written before release 3
  auto deposit = nlohmann::json::parse(encode_ledger_event(row));
  EXPECT_TRUE(deposit["transfer_id"].is_null());
  EXPECT_TRUE(deposit["currency"].is_null());
}

TEST(LedgerEventTest, HoldChangeIsEncodedAndTextIsEscaped) {
  LedgerOutboxRow row;
  row.event_id = "e";
  row.user_id = "u";
  row.account_id = "a";
  row.currency = "JPY";
  row.hold_id = "h";
  row.status = "odd\"status\\\n";
  row.amount = "5.00";
  row.to_user_id = "t";
  row.expires_at = "2026-12-02T05:00:00.000000Z";
  row.created_at = "2026-12-02T04:00:00.000000Z";
  const auto text = encode_ledger_event(row);
  auto event = nlohmann::json::parse(text);
  EXPECT_EQ(event["status"], "odd\"status\\\n");
  EXPECT_EQ(event["amount"], "5.00");
  EXPECT_TRUE(event["transfer_id"].is_null());
  std::vector<std::string> keys;
  for (auto it = event.begin(); it != event.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(event["account_id"], "a");
  EXPECT_EQ(event["currency"], "JPY");
  EXPECT_EQ(keys.size(), 11u) << text;
  EXPECT_FALSE(event.contains("transaction_id"));
}

}  // namespace
}  // namespace wallet::messaging
