// The `user-created` event (SPEC.md section 3), encoded by user-service and decoded by
// transaction-service in this one module. Decoding decides what is poison: a value that can never
// open an account goes to the dead-letter topic with the reason given here, instead of blocking
// its partition.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::domain {

struct UserCreatedEvent {
  std::string event_id;    // UUID of this event (encode; ignored by decode)
  std::string user_id;     // lower-case canonical UUID
  std::string email;       // normalized (encode; ignored by decode)
  std::string created_at;  // RFC 3339; empty when the event carries none
};

// {"event_id", "user_id", "email", "created_at"} as one JSON object (the Kafka record's value).
std::string encode_user_created(const UserCreatedEvent& event);

// A JSON object with a UUID `user_id` and, if present, an RFC 3339 string `created_at`. Other
// fields (email, event_id, later additions) are ignored. The error message is the DLQ reason.
Result<UserCreatedEvent> decode_user_created(std::string_view value);

// YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, microseconds): how user-service writes created_at.
std::string format_utc_timestamp(std::chrono::system_clock::time_point at);

// YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM) with calendar-valid fields.
bool is_rfc3339_timestamp(std::string_view text);

}  // namespace wallet::domain
