// The messaging contract's names, defined once in domain/contract.hpp (user-service's directory
// and the configuration defaults need them too); kept here under messaging's names.
#pragma once

#include "domain/contract.hpp"

namespace wallet::messaging {

using domain::kBalanceQueueGroup;
using domain::kBalanceSubject;
using domain::kUserCreatedConsumerGroup;
using domain::kUserCreatedDlqTopic;
using domain::kUserCreatedTopic;

}  // namespace wallet::messaging
