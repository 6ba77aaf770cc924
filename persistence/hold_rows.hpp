// Private to persistence/: how the hold reads (ledger_holds.cpp, ledger_accounts.cpp,
// ledger_across_owners.cpp) select a hold and read it back as a HoldRecord.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "persistence/ledger_types.hpp"
#include "persistence/stored_money.hpp"

namespace wallet::persistence {

// The columns every hold read selects, in the order hold_from_row reads them.
// Each from `holds h`, with the payer's currency: the caller joins `accounts a` on the payer.
inline const std::string kHoldColumns =
    std::string(
        "h.hold_id, h.from_user_id, h.to_user_id, h.amount, h.status,"
        " (extract(epoch FROM h.expires_at) * 1000)::bigint, coalesce(h.transfer_id::text, ''),"
        " coalesce(h.captured_amount, 0), to_char(h.created_at AT TIME ZONE 'UTC', '") +
    kRfc3339 +
    "'), a.currency, a.user_id::text,"
    " (SELECT b.user_id::text FROM accounts b WHERE b.account_id = h.to_user_id),"
    " coalesce(h.transaction_id::text, ''), coalesce(h.posting, -1)";
inline const std::string kHoldsWithPayer =
    " FROM holds h JOIN accounts a ON a.account_id = h.from_user_id ";

HoldRecord hold_from_row(const pqxx::row& row);

}  // namespace wallet::persistence
