// GET /openapi.json: each service serves its OpenAPI 3 document (http/openapi/<service>.json,
// embedded at build time) and checks at start-up that the document and its Router agree.
#pragma once

#include <string>

#include "http/router.hpp"

namespace wallet::http {

// Registers GET /openapi.json for `service` ("user-service" or "transaction-service"), then
// compares every route registered on `router` so far (so call it last) with the document's
// operations and logs each difference as `event=openapi_mismatch`. Returns false when they differ
// and `strict` is set (OPENAPI_CHECK=1), so that main can refuse to start; true otherwise.
bool add_openapi_routes(Router& router, const std::string& service, bool strict);

}  // namespace wallet::http
