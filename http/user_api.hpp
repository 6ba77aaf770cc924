// user-service's HTTP API (SPEC.md section 2): createUser, getBalance and the user lookup. Handlers
// validate and render; everything else goes through the UserDirectory, whose callbacks answer on
// pool or requester threads, so no handler blocks a reactor thread.
#pragma once

#include "http/router.hpp"
#include "users/user_directory.hpp"

namespace wallet::http {

void add_user_routes(Router& router, users::UserDirectory& directory);

}  // namespace wallet::http
