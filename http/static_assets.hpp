// Serving files embedded in the binary (embedded_assets.hpp): the content type from the file's
// extension, `Cache-Control: no-store`, and a strict Content-Security-Policy with friends, so a
// page we serve can load only its own files and talk only to this service.
#pragma once

#include <string>
#include <string_view>

#include "http/router.hpp"

namespace wallet::http {

std::string content_type_for(std::string_view name);

// Answers 200 with the embedded file `name` (a path below http/, e.g. "static/admin/app.js"),
// or 500 internal (and an error log line) when the build did not embed it.
void send_embedded_asset(const ResponderPtr& responder, std::string_view name);

// A handler that always sends the embedded file `name`.
Handler serve_embedded_asset(std::string name);

}  // namespace wallet::http
