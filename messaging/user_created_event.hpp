// The `user-created` event codec lives in domain/user_created_event.hpp (one module encodes and
// decodes it); kept here under messaging's names for the consumer and its tests.
#pragma once

#include "domain/user_created_event.hpp"

namespace wallet::messaging {

using domain::decode_user_created;
using domain::is_rfc3339_timestamp;
using domain::UserCreatedEvent;

}  // namespace wallet::messaging
