// A user to insert with persistence::create_user, as UserDirectory::create builds it: fresh ids,
// the creation time, and the `user-created` event encoded by domain/user_created_event.
#pragma once

#include <chrono>
#include <string>

#include "domain/ids.hpp"
#include "domain/user_created_event.hpp"
#include "persistence/user_store.hpp"

namespace wallet::test {

inline persistence::NewUser new_user(const std::string& email, const std::string& topic) {
  domain::UserCreatedEvent event{domain::new_uuid_v4(), domain::new_uuid_v4(), email,
                                 domain::format_utc_timestamp(std::chrono::system_clock::now())};
  return {event.user_id, email, event.created_at, topic, domain::encode_user_created(event)};
}

}  // namespace wallet::test
