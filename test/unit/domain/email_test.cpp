// Unit tests of domain/email: trimming, lower-casing and the accepted address syntax.
#include "domain/email.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace wallet::domain {
namespace {

struct EmailCase {
  const char* name;
  std::string raw;
  std::optional<std::string> normalized;  // nullopt: must be rejected as invalid_email
};

class NormalizeEmailTest : public testing::TestWithParam<EmailCase> {};

TEST_P(NormalizeEmailTest, GivesNormalizedAddressOrInvalidEmail) {
  const EmailCase& c = GetParam();
  const Result<std::string> result = normalize_email(c.raw);
  if (c.normalized) {
    ASSERT_TRUE(result.ok()) << "\"" << c.raw << "\": " << result.error().message;
    EXPECT_EQ(*result, *c.normalized);
  } else {
    ASSERT_FALSE(result.ok()) << "\"" << c.raw << "\" accepted as " << *result;
    EXPECT_EQ(result.error().code, ErrorCode::invalid_email);
    EXPECT_FALSE(result.error().message.empty());
  }
}

const std::string k64 = std::string(64, 'a');
const std::string k63 = std::string(63, 'b');

const std::vector<EmailCase> kEmailCases = {
    {"AcceptsSimpleAddress", "a@b.com", "a@b.com"},
    {"LowerCasesEverything", "Alice.Smith@Example.COM", "alice.smith@example.com"},
    {"TrimsSpaces", "  a@b.com  ", "a@b.com"},
    {"TrimsTabsAndNewlines", "\t\r\na@b.com\n", "a@b.com"},
    {"AcceptsPlusTag", "alice+wallet@example.com", "alice+wallet@example.com"},
    {"AcceptsAllAtextSymbols", "!#$%&'*+/=?^_`{|}~-@x.io", "!#$%&'*+/=?^_`{|}~-@x.io"},
    {"AcceptsDotsInLocalPart", "first.middle.last@example.org", "first.middle.last@example.org"},
    {"AcceptsSubdomains", "a@mail.eu.example.co.uk", "a@mail.eu.example.co.uk"},
    {"AcceptsHyphenInsideLabel", "a@my-domain.com", "a@my-domain.com"},
    {"AcceptsDigitsInDomain", "a@123.example.com", "a@123.example.com"},
    {"AcceptsAlphanumericTld", "a@example.x1", "a@example.x1"},
    {"Accepts64CharacterLocalPart", k64 + "@example.com", k64 + "@example.com"},
    {"Accepts63CharacterLabel", "a@" + k63 + ".com", "a@" + k63 + ".com"},
    {"Accepts254Characters", k64 + "@" + k63 + "." + k63 + "." + std::string(57, 'c') + ".com",
     k64 + "@" + k63 + "." + k63 + "." + std::string(57, 'c') + ".com"},
    {"RejectsEmpty", "", std::nullopt},
    {"RejectsWhitespaceOnly", "   ", std::nullopt},
    {"RejectsMissingAt", "alice.example.com", std::nullopt},
    {"RejectsTwoAts", "a@b@example.com", std::nullopt},
    {"RejectsEmptyLocalPart", "@example.com", std::nullopt},
    {"RejectsEmptyDomain", "alice@", std::nullopt},
    {"Rejects65CharacterLocalPart", k64 + "a@example.com", std::nullopt},
    {"Rejects255Characters", k64 + "@" + k63 + "." + k63 + "." + std::string(58, 'c') + ".com",
     std::nullopt},
    {"RejectsLeadingDotInLocalPart", ".alice@example.com", std::nullopt},
    {"RejectsTrailingDotInLocalPart", "alice.@example.com", std::nullopt},
    {"RejectsConsecutiveDotsInLocalPart", "al..ice@example.com", std::nullopt},
    {"RejectsSpaceInside", "al ice@example.com", std::nullopt},
    {"RejectsQuotedLocalPart", "\"alice\"@example.com", std::nullopt},
    {"RejectsParenthesesInLocalPart", "alice(x)@example.com", std::nullopt},
    {"RejectsNonAsciiLocalPart", "j\xc3\xb6rg@example.com", std::nullopt},
    {"RejectsSingleLabelDomain", "alice@localhost", std::nullopt},
    {"RejectsLeadingDotInDomain", "alice@.example.com", std::nullopt},
    {"RejectsTrailingDotInDomain", "alice@example.com.", std::nullopt},
    {"RejectsConsecutiveDotsInDomain", "alice@example..com", std::nullopt},
    {"RejectsLabelStartingWithHyphen", "alice@-example.com", std::nullopt},
    {"RejectsLabelEndingWithHyphen", "alice@example-.com", std::nullopt},
    {"Rejects64CharacterLabel", "a@" + k63 + "b.com", std::nullopt},
    {"RejectsUnderscoreInDomain", "alice@my_domain.com", std::nullopt},
    {"RejectsIpLiteral", "alice@[127.0.0.1]", std::nullopt},
    {"RejectsNumericTld", "alice@127.0.0.1", std::nullopt},
    {"RejectsOneLetterTld", "alice@example.c", std::nullopt},
    {"RejectsNonAsciiDomain",
     "alice@b\xc3\xbc"
     "cher.de",
     std::nullopt},
    {"RejectsEmbeddedNul", std::string("alice\0@example.com", 18), std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Table, NormalizeEmailTest, testing::ValuesIn(kEmailCases),
                         [](const testing::TestParamInfo<EmailCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(EmailTest, MessagesExplainTheProblemWithoutEchoingTheAddress) {
  const Result<std::string> result = normalize_email("secret.person@localhost");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("two parts"), std::string::npos);
  EXPECT_EQ(result.error().message.find("secret.person"), std::string::npos);
  EXPECT_NE(normalize_email("a@@b.com").error().message.find("exactly one '@'"), std::string::npos);
}

TEST(EmailTest, NormalizingTwiceChangesNothing) {
  const Result<std::string> once = normalize_email("  Bob.O'Neil+Tag@Sub.Example.ORG ");
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(*once, "bob.o'neil+tag@sub.example.org");
  const Result<std::string> twice = normalize_email(*once);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(*twice, *once);
}

TEST(EmailTest, HugeInputIsRejectedQuickly) {
  const Result<std::string> result = normalize_email(std::string(1'000'000, 'a') + "@b.com");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::invalid_email);
}

}  // namespace
}  // namespace wallet::domain
