// Identifiers: user, transaction and transfer ids (UUIDs) and client idempotency keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wallet::domain {

constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// Canonical 8-4-4-4-12 hex form, upper or lower case. Any version and variant is accepted (ids
// come from Postgres too); braces, "urn:uuid:" and the 32-digit form without hyphens are not.
bool is_uuid(std::string_view text);

// The lower-case canonical form, which is how ids are stored and answered; nullopt if !is_uuid.
std::optional<std::string> normalize_uuid(std::string_view text);

// A random version 4 UUID, lower case. Uses a per-thread std::mt19937_64 seeded from
// std::random_device: unique enough for ids, but not secret; never use it for tokens.
std::string new_uuid_v4();
// Makes this thread's uuids a deterministic sequence (the protocol simulation replays a seed).
void seed_uuids_for_simulation(std::uint64_t seed);

// 1..255 characters, each printable ASCII 0x21..0x7E (no spaces, no control or non-ASCII bytes).
bool is_valid_idempotency_key(std::string_view key);

}  // namespace wallet::domain
