// Files compiled into the binary from http/static/ and http/openapi/ (the admin page, the OpenAPI
// documents), looked up by their path below http/, e.g. "static/admin/index.html". The table is
// generated at build time by http/embedded_assets.cmake; nothing is read from disk at run time.
#pragma once

#include <optional>
#include <string_view>

namespace wallet::http {

// The file's bytes (valid for the life of the process), or nullopt when no such file was embedded.
std::optional<std::string_view> find_embedded_asset(std::string_view name);

}  // namespace wallet::http
