// Unit tests of http/jwt: HS256 verification (algorithm pinning, constant-time MAC check, time
// claims), strict base64url, the Bearer header and the subject/role checks the handlers rely on.
#include "http/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

namespace wallet::http {
namespace {

constexpr char kSecret[] = "test-secret-of-at-least-thirty-two-bytes!";
constexpr double kNow = 1'700'000'000;
constexpr char kUser[] = "123e4567-e89b-42d3-a456-426614174000";
constexpr char kHs256[] = R"({"alg":"HS256","typ":"JWT"})";

std::string token(const std::string& payload, const std::string& header = kHs256,
                  const std::string& secret = kSecret) {
  return sign_hs256(header, payload, secret);
}

JwtVerdict verify(const std::string& jwt) { return JwtVerifier(kSecret).verify(jwt, kNow); }

TEST(JwtTest, AcceptsValidTokenAndReadsClaims) {
  const auto verdict = verify(
      token(R"({"sub":")" + std::string(kUser) + R"(","role":"operator","exp":1700000060})"));
  ASSERT_EQ(verdict.status, JwtStatus::valid);
  EXPECT_EQ(verdict.claims.subject, kUser);
  EXPECT_EQ(verdict.claims.role, "operator");
  EXPECT_EQ(verdict.claims.expires_at, 1700000060);
}

TEST(JwtTest, AcceptsTokenWithoutTimeClaims) {
  EXPECT_EQ(verify(token(R"({"sub":"x"})")).status, JwtStatus::valid);
}

TEST(JwtTest, RejectsBadSignature) {
  EXPECT_EQ(verify(token(R"({"sub":"x"})", kHs256, "another-secret")).status,
            JwtStatus::bad_signature);
  // A valid token with one payload character changed.
  std::string jwt = token(R"({"sub":"alice"})");
  jwt[jwt.find('.') + 2] = jwt[jwt.find('.') + 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(jwt).status, JwtStatus::bad_signature);
}

TEST(JwtTest, RejectsTruncatedSignature) {
  std::string jwt = token(R"({"sub":"x"})");
  jwt.resize(jwt.size() - 4);
  EXPECT_EQ(verify(jwt).status, JwtStatus::bad_signature);
  EXPECT_EQ(verify(jwt.substr(0, jwt.rfind('.') + 1)).status, JwtStatus::bad_signature);
}

TEST(JwtTest, RejectsAlgNone) {
  const std::string header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = base64url_encode(R"({"sub":"x"})");
  EXPECT_EQ(verify(header + "." + payload + ".").status, JwtStatus::unsupported_algorithm);
  // Even "signed" with the secret: the algorithm is pinned, never taken from the token.
  EXPECT_EQ(verify(token(R"({"sub":"x"})", R"({"alg":"none"})")).status,
            JwtStatus::unsupported_algorithm);
}

TEST(JwtTest, RejectsOtherAlgorithms) {
  for (const char* header : {R"({"alg":"HS512"})", R"({"alg":"hs256"})", R"({"alg":"RS256"})",
                             R"({"alg":"HS256 "})", R"({"alg":["HS256"]})", R"({"typ":"JWT"})"}) {
    EXPECT_EQ(verify(token(R"({"sub":"x"})", header)).status, JwtStatus::unsupported_algorithm)
        << header;
  }
}

TEST(JwtTest, RejectsCriticalHeaderExtensions) {
  EXPECT_EQ(verify(token(R"({"sub":"x"})", R"({"alg":"HS256","crit":["exp"]})")).status,
            JwtStatus::unsupported_algorithm);
}

TEST(JwtTest, RejectsExpiredToken) {
  EXPECT_EQ(verify(token(R"({"sub":"x","exp":1699999999})")).status, JwtStatus::expired);
  EXPECT_EQ(verify(token(R"({"sub":"x","exp":1700000000})")).status, JwtStatus::expired);
  EXPECT_EQ(verify(token(R"({"sub":"x","exp":1700000000.5})")).status, JwtStatus::valid);
}

TEST(JwtTest, RejectsTokenBeforeNotBefore) {
  EXPECT_EQ(verify(token(R"({"sub":"x","nbf":1700000001})")).status, JwtStatus::not_yet_valid);
  EXPECT_EQ(verify(token(R"({"sub":"x","nbf":1700000000})")).status, JwtStatus::valid);
}

TEST(JwtTest, RejectsClaimsOfWrongType) {
  for (const char* payload : {R"({"exp":"tomorrow"})", R"({"nbf":null})", R"({"sub":42})",
                              R"({"role":["operator"]})", R"(["not","an","object"])", "null"}) {
    EXPECT_EQ(verify(token(payload)).status, JwtStatus::malformed) << payload;
  }
}

TEST(JwtTest, RejectsMalformedBase64) {
  const std::string jwt = token(R"({"sub":"x"})");
  const std::string payload = jwt.substr(jwt.find('.') + 1);
  EXPECT_EQ(verify("eyJ!bGciOiJIUzI1NiJ9." + payload).status, JwtStatus::malformed);
  EXPECT_EQ(verify(base64url_encode(kHs256) + "==." + payload).status, JwtStatus::malformed);
  EXPECT_EQ(verify(jwt + "+").status, JwtStatus::malformed);
  EXPECT_EQ(verify("%%%.%%%.%%%").status, JwtStatus::malformed);
  EXPECT_EQ(verify(base64url_encode("not json") + "." + payload).status, JwtStatus::malformed);
}

TEST(JwtTest, RejectsWrongSegmentCount) {
  const std::string jwt = token(R"({"sub":"x"})");
  EXPECT_EQ(verify(jwt.substr(0, jwt.rfind('.'))).status, JwtStatus::malformed);
  EXPECT_EQ(verify(jwt + ".e30").status, JwtStatus::malformed);
  EXPECT_EQ(verify("a.b.c.d.e").status, JwtStatus::malformed);
  EXPECT_EQ(verify("onlyonesegment").status, JwtStatus::malformed);
  EXPECT_EQ(verify("..").status, JwtStatus::malformed);
  EXPECT_EQ(verify("").status, JwtStatus::missing);
}

TEST(JwtTest, RejectsOversizedToken) {
  EXPECT_EQ(verify(token(R"({"sub":")" + std::string(kMaxJwtLength, 'a') + R"("})")).status,
            JwtStatus::malformed);
}

TEST(JwtTest, SubjectMismatchIsDetected) {
  const auto verdict = verify(token(R"({"sub":")" + std::string(kUser) + R"("})"));
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(subject_is(verdict.claims, kUser));
  EXPECT_TRUE(subject_is(verdict.claims, "123E4567-E89B-42D3-A456-426614174000"));
  EXPECT_FALSE(subject_is(verdict.claims, "9f3c2a1b-0d4e-4f5a-8b6c-7d8e9fa0b1c2"));
  EXPECT_FALSE(subject_is(JwtClaims{}, kUser));
  EXPECT_TRUE(has_role(verify(token(R"({"role":"operator"})")).claims, "operator"));
  EXPECT_FALSE(has_role(verify(token(R"({"role":"Operator"})")).claims, "operator"));
  EXPECT_FALSE(has_role(verdict.claims, "operator"));
}

TEST(JwtTest, ReadsBearerHeader) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer   abc "), "abc");
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearerabc"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer a b"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer " + std::string(kMaxJwtLength + 100, 'a')), std::nullopt);
}

TEST(JwtTest, Base64UrlRoundTripsAndIsStrict) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("-_9"), std::nullopt);  // non-zero unused bits
  EXPECT_EQ(base64url_decode("QQ=="), std::nullopt);
  EXPECT_EQ(base64url_decode("Q"), std::nullopt);
  EXPECT_EQ(base64url_decode("+/8"), std::nullopt);
  EXPECT_EQ(base64url_decode(""), "");
}

// A token over any signing input, correctly signed: what an attacker who knows nothing but
// a valid token cannot make, and what shows that spelling checks do not rest on the MAC.
std::string signed_input(const std::string& input, const std::string& secret = kSecret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), length));
}

TEST(JwtTest, SignedInputHelperMakesTokensTheVerifierAccepts) {
  // The positive control of the two tests below.
  EXPECT_EQ(
      verify(signed_input(base64url_encode(kHs256) + "." + base64url_encode(R"({"sub":"x"})")))
          .status,
      JwtStatus::valid);
}

TEST(JwtTest, NonCanonicalSegmentsAreRefusedEvenWhenSigned) {
  // libjwt 1.10.2 accepts both of these (padding, a character outside the alphabet): one token
  // must have one spelling, so the verifier refuses them before libjwt sees them.
  const std::string header = base64url_encode(kHs256);
  const std::string payload = base64url_encode(R"({"sub":"x"})");
  EXPECT_EQ(verify(signed_input(header + "==." + payload)).status, JwtStatus::malformed);
  EXPECT_EQ(verify(signed_input(header + "." + payload + "!")).status, JwtStatus::malformed);
  EXPECT_EQ(verify(signed_input(header + "." + payload + "==")).status, JwtStatus::malformed);
}

TEST(JwtTest, ExpiredWrongAlgorithmBadSignatureAndNoneAreAllRefused) {
  const std::string claims = R"({"sub":"x","exp":1699999000})";
  EXPECT_EQ(verify(token(claims)).status, JwtStatus::expired);
  EXPECT_EQ(verify(token(R"({"sub":"x"})", R"({"alg":"HS384","typ":"JWT"})")).status,
            JwtStatus::unsupported_algorithm);
  EXPECT_EQ(verify(token(R"({"sub":"x","exp":1800000000})", kHs256, "wrong-secret")).status,
            JwtStatus::bad_signature);
  // alg none with an empty signature, and with a MAC appended: never accepted.
  const std::string none = base64url_encode(R"({"alg":"none"})") + "." +
                           base64url_encode(R"({"sub":"x","role":"operator"})");
  EXPECT_EQ(verify(none + ".").status, JwtStatus::unsupported_algorithm);
  EXPECT_EQ(verify(signed_input(none)).status, JwtStatus::unsupported_algorithm);
}

TEST(JwtTest, EmptySecretAcceptsNothing) {
  // libjwt given no key verifies nothing: a verifier without a secret must not reach it.
  EXPECT_EQ(JwtVerifier("").verify(token(R"({"sub":"x"})", kHs256, ""), kNow).status,
            JwtStatus::bad_signature);
}

TEST(JwtTest, DescribesEveryFailureWithoutDetails) {
  for (auto status : {JwtStatus::missing, JwtStatus::malformed, JwtStatus::unsupported_algorithm,
                      JwtStatus::bad_signature, JwtStatus::expired, JwtStatus::not_yet_valid}) {
    EXPECT_FALSE(describe(status).empty());
    EXPECT_EQ(describe(status).find(kSecret), std::string_view::npos);
  }
}

}  // namespace
}  // namespace wallet::http
