// The `user-created` event as transaction-service reads it (SPEC.md section 3). Decoding decides
// what is poison: a value that can never open an account goes to the dead-letter topic with the
// reason given here, instead of blocking its partition.
#pragma once

#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::messaging {

struct UserCreatedEvent {
  std::string user_id;     // lower-case canonical UUID
  std::string created_at;  // RFC 3339 as sent; empty when the event carries none
};

// A JSON object with a UUID `user_id` and, if present, an RFC 3339 string `created_at`. Other
// fields (email, event_id, later additions) are ignored. The error message is the DLQ reason.
domain::Result<UserCreatedEvent> decode_user_created(std::string_view value);

// YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM) with calendar-valid fields.
bool is_rfc3339_timestamp(std::string_view text);

}  // namespace wallet::messaging
