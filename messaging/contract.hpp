// Names of the messaging contract (SPEC.md sections 3 and 4) shared by the producing and the
// consuming side, so both services spell them the same way.
#pragma once

namespace wallet::messaging {

inline constexpr const char* kUserCreatedTopic = "user-created";
inline constexpr const char* kBalanceSubject = "wallet.balance.get";
inline constexpr const char* kBalanceQueueGroup = "transaction-service";

}  // namespace wallet::messaging
