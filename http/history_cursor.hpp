// The opaque cursor of GET /users/{id}/transactions: the `seq` of the last row of a
// page, as base64url (no padding) of the versioned text "v1:<seq>". Clients must not build or read
// it; the version lets the encoding change without breaking cursors already handed out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wallet::http {

std::string encode_history_cursor(int64_t seq);

// The seq (> 0) of a cursor this service issued; nullopt for anything else.
std::optional<int64_t> decode_history_cursor(std::string_view cursor);

}  // namespace wallet::http
