// JwtVerifier: the optional client authentication of transaction-service. Verifies compact HS256
// JSON Web Tokens (RFC 7519) with the shared secret AUTH_JWT_SECRET: exactly alg "HS256" (never
// "none" or any other), the MAC verified by libjwt (constant-time compare), then exp/nbf against
// the clock. Pure (libjwt, OpenSSL HMAC and nlohmann only), never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wallet::http {

// Longer Authorization values are refused before any decoding.
constexpr std::size_t kMaxJwtLength = 8 * 1024;

enum class JwtStatus {
  valid,
  missing,                // no "Authorization: Bearer <token>"
  malformed,              // not three base64url segments of JSON objects, or claims of wrong types
  unsupported_algorithm,  // alg other than HS256 (including "none"), or a "crit" header
  bad_signature,
  expired,        // exp <= now
  not_yet_valid,  // nbf > now
};

struct JwtClaims {
  std::optional<std::string> subject;  // "sub"
  std::optional<std::string> role;     // "role", our claim for operators
  std::optional<double> expires_at;    // "exp", seconds since the epoch
  std::optional<double> not_before;    // "nbf"
};

struct JwtVerdict {
  JwtStatus status = JwtStatus::malformed;
  JwtClaims claims;  // filled only when valid

  bool ok() const { return status == JwtStatus::valid; }
};

class JwtVerifier {
 public:
  explicit JwtVerifier(std::string secret) : secret_(std::move(secret)) {}

  JwtVerdict verify(std::string_view token) const;
  // `now` in seconds since the epoch; for tests.
  JwtVerdict verify(std::string_view token, double now) const;

 private:
  std::string secret_;
};

// The token of an Authorization header value "Bearer <token>" (scheme case-insensitive), or
// nullopt for another scheme, an empty token or a value over kMaxJwtLength.
std::optional<std::string> bearer_token(std::string_view authorization);

// The message a client gets for a failed verification: says what kind of failure, nothing more.
std::string_view describe(JwtStatus status);

// Whether the token speaks for `user_id`: its "sub" is that user id (UUIDs compare case-blind).
bool subject_is(const JwtClaims& claims, std::string_view user_id);

// Whether the token carries "role": `role` exactly.
bool has_role(const JwtClaims& claims, std::string_view role);

// RFC 4648 section 5 without padding. Decoding is strict: no padding, no other characters, and
// unused trailing bits must be zero, so every byte string has exactly one accepted encoding.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// header.payload.signature for the given JSON texts, signed with HS256: what a token issuer does;
// used by tests and tools.
std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret);

}  // namespace wallet::http
