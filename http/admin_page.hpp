// The live admin page of transaction-service: static HTML, CSS and JS embedded in the binary and
// served at /admin/ (and /admin). The page holds no data and needs no token to load; its script
// asks for the admin token and polls the bearer-protected admin JSON API (admin_api.cpp).
#pragma once

#include "http/router.hpp"

namespace wallet::http {

void add_admin_page_routes(Router& router);

}  // namespace wallet::http
