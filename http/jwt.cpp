// HS256 JWT verification over libjwt 1.10.2 (Debian libjwt-dev): libjwt decodes the token,
// verifies the HMAC-SHA256 (compared in constant time, jwt_strcmp) and parses the claims. Kept
// here, each for a defect of that version found by test (docs/decisions.md):
//  - the strict base64url check of each segment: libjwt accepts padding ("...J9==") and characters
//    outside the alphabet ("...In0!"), so one token would have many accepted spellings;
//  - the algorithm pin, read from the header before libjwt sees the token: with no key libjwt
//    accepts any token unverified, and every failure it reports is the same EINVAL, while clients
//    are told which check failed;
//  - typed claims: libjwt reads a grant as a string or a long only, and "exp": 1700000000.5 is a
//    valid NumericDate (RFC 7519) that jwt_get_grant_int would truncate;
//  - OpenSSL's HMAC, to say why libjwt refused (it answers EINVAL for everything) and for
//    sign_hs256 (tests and tools), which signs arbitrary header texts, as libjwt's encoder cannot.
#include "http/jwt.hpp"

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"

namespace wallet::http {
namespace {

using Json = nlohmann::json;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kSha256Bytes = 32;

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<std::array<unsigned char, kSha256Bytes>> hmac_sha256(std::string_view key,
                                                                   std::string_view data) {
  std::array<unsigned char, kSha256Bytes> mac{};
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
  if (result == nullptr || length != mac.size()) return std::nullopt;
  return mac;
}

// A JSON object from a base64url segment, or a discarded value.
Json decode_object(std::string_view segment) {
  auto text = base64url_decode(segment);
  if (!text) return Json(Json::value_t::discarded);
  Json json = Json::parse(*text, nullptr, false);
  return json.is_object() ? json : Json(Json::value_t::discarded);
}

// Reads an optional claim of the expected JSON type; false if present with another type.
bool read_string(const Json& payload, const char* name, std::optional<std::string>& out) {
  const auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool read_time(const Json& payload, const char* name, std::optional<double>& out) {
  const auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (!it->is_number()) return false;
  out = it->get<double>();
  return true;
}

JwtVerdict verdict(JwtStatus status) { return JwtVerdict{status, {}}; }

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
struct CharFree {
  void operator()(char* text) const { std::free(text); }
};

JwtVerdict verify_token(std::string_view token, std::string_view secret, double now) {
  if (token.empty()) return verdict(JwtStatus::missing);
  if (token.size() > kMaxJwtLength) return verdict(JwtStatus::malformed);
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return verdict(JwtStatus::malformed);  // JWE (five segments) and anything else
  }
  const std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_text = token.substr(second_dot + 1);
  // One spelling per token: libjwt would also take padded or non-alphabet segments.
  if (!base64url_decode(payload_text) || !base64url_decode(signature_text)) {
    return verdict(JwtStatus::malformed);
  }

  // The algorithm is pinned before libjwt sees the token (it takes alg from the token).
  const Json header = decode_object(token.substr(0, first_dot));
  if (header.is_discarded()) return verdict(JwtStatus::malformed);
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256" ||
      header.contains("crit")) {
    return verdict(JwtStatus::unsupported_algorithm);
  }
  if (secret.empty()) return verdict(JwtStatus::bad_signature);  // libjwt: no key = no check

  // libjwt decides: decode, verify the MAC with the key, parse the claims.
  const std::string text(token);
  jwt_t* raw = nullptr;
  const int failed =
      jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size()));
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  if (failed != 0 || !jwt || jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
    // It said no, and says only EINVAL: tell the client which check failed, the signature first
    // (a payload altered in transit is a bad signature, whatever it decodes to).
    const auto signature = base64url_decode(signature_text);
    const auto expected = hmac_sha256(secret, token.substr(0, second_dot));
    if (!signature || !expected || signature->size() != expected->size() ||
        CRYPTO_memcmp(signature->data(), expected->data(), expected->size()) != 0) {
      return verdict(JwtStatus::bad_signature);
    }
    return verdict(JwtStatus::malformed);  // signed, but the claims are not a JSON object
  }

  // The claims as libjwt parsed them, read with their JSON types.
  std::unique_ptr<char, CharFree> grants(jwt_get_grants_json(jwt.get(), nullptr));
  const Json payload = grants ? Json::parse(grants.get(), nullptr, false) : Json();
  if (!payload.is_object()) return verdict(JwtStatus::malformed);
  JwtVerdict out{JwtStatus::valid, {}};
  if (!read_string(payload, "sub", out.claims.subject) ||
      !read_string(payload, "role", out.claims.role) ||
      !read_time(payload, "exp", out.claims.expires_at) ||
      !read_time(payload, "nbf", out.claims.not_before)) {
    return verdict(JwtStatus::malformed);
  }
  if (out.claims.expires_at && now >= *out.claims.expires_at) return verdict(JwtStatus::expired);
  if (out.claims.not_before && now < *out.claims.not_before) {
    return verdict(JwtStatus::not_yet_valid);
  }
  return out;
}

}  // namespace

JwtVerdict JwtVerifier::verify(std::string_view token) const {
  const auto now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
  return verify(token, now.count());
}

JwtVerdict JwtVerifier::verify(std::string_view token, double now) const {
  try {
    return verify_token(token, secret_, now);
  } catch (const std::exception&) {
    return verdict(JwtStatus::malformed);  // allocation failure only: the parsing does not throw
  }
}

std::optional<std::string> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || authorization.size() > kMaxJwtLength + 64) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty() || rest.find(' ') != std::string_view::npos) return std::nullopt;
  return std::string(rest);
}

std::string_view describe(JwtStatus status) {
  switch (status) {
    case JwtStatus::valid:
      return "the bearer token is valid";
    case JwtStatus::missing:
      return "a bearer token is required";
    case JwtStatus::malformed:
      return "the bearer token is not a well-formed JWT";
    case JwtStatus::unsupported_algorithm:
      return "the bearer token must be signed with HS256";
    case JwtStatus::bad_signature:
      return "the bearer token's signature does not verify";
    case JwtStatus::expired:
      return "the bearer token has expired";
    case JwtStatus::not_yet_valid:
      return "the bearer token is not valid yet";
  }
  return "the bearer token is invalid";
}

bool subject_is(const JwtClaims& claims, std::string_view user_id) {
  if (!claims.subject) return false;
  const auto subject = domain::normalize_uuid(*claims.subject);
  const auto user = domain::normalize_uuid(user_id);
  if (subject && user) return *subject == *user;
  return *claims.subject == user_id;
}

bool has_role(const JwtClaims& claims, std::string_view role) {
  return claims.role && *claims.role == role;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no byte string encodes to that length
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = sextet(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-zero unused bits
  return out;
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret) {
  std::string token = base64url_encode(header_json) + '.' + base64url_encode(payload_json);
  const auto mac = hmac_sha256(secret, token);
  token += '.';
  if (mac) {
    token +=
        base64url_encode(std::string_view(reinterpret_cast<const char*>(mac->data()), mac->size()));
  }
  return token;
}

}  // namespace wallet::http
