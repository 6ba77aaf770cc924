// Unit tests of domain/ids: UUID syntax, normalization, v4 generation and idempotency keys.
#include "domain/ids.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace wallet::domain {
namespace {

struct UuidCase {
  const char* name;
  std::string input;
  bool valid;
};

class IsUuidTest : public testing::TestWithParam<UuidCase> {};

TEST_P(IsUuidTest, AcceptsOnlyCanonicalForm) {
  EXPECT_EQ(is_uuid(GetParam().input), GetParam().valid) << GetParam().input;
}

const std::vector<UuidCase> kUuidCases = {
    {"AcceptsLowerCase", "123e4567-e89b-42d3-a456-426614174000", true},
    {"AcceptsUpperCase", "123E4567-E89B-42D3-A456-426614174000", true},
    {"AcceptsMixedCase", "123e4567-E89b-42D3-a456-426614174ABC", true},
    {"AcceptsNilUuid", "00000000-0000-0000-0000-000000000000", true},
    {"AcceptsMaxUuid", "ffffffff-ffff-ffff-ffff-ffffffffffff", true},
    {"AcceptsVersion1", "c232ab00-9414-11ec-b3c8-9f6bdeced846", true},
    {"RejectsEmpty", "", false},
    {"RejectsWithoutHyphens", "123e4567e89b42d3a456426614174000", false},
    {"RejectsBraces", "{123e4567-e89b-42d3-a456-426614174000}", false},
    {"RejectsUrnPrefix", "urn:uuid:123e4567-e89b-42d3-a456-426614174000", false},
    {"RejectsNonHexLetter", "123e4567-e89b-42d3-a456-42661417400g", false},
    {"RejectsOneCharacterShort", "123e4567-e89b-42d3-a456-42661417400", false},
    {"RejectsOneCharacterLong", "123e4567-e89b-42d3-a456-4266141740000", false},
    {"RejectsMisplacedHyphen", "123e456-7e89b-42d3-a456-426614174000", false},
    {"RejectsUnderscores", "123e4567_e89b_42d3_a456_426614174000", false},
    {"RejectsLeadingSpace", " 123e4567-e89b-42d3-a456-42661417400", false},
    {"RejectsTrailingNewline", "123e4567-e89b-42d3-a456-42661417400\n", false},
    {"RejectsHyphensOnly", "------------------------------------", false},
    {"RejectsSqlInjection", "1' OR '1'='1--------------------------", false},
};

INSTANTIATE_TEST_SUITE_P(Table, IsUuidTest, testing::ValuesIn(kUuidCases),
                         [](const testing::TestParamInfo<UuidCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(IdsTest, NormalizesUuidToLowerCase) {
  EXPECT_EQ(normalize_uuid("123E4567-E89B-42D3-A456-426614174ABC"),
            "123e4567-e89b-42d3-a456-426614174abc");
  EXPECT_EQ(normalize_uuid("123e4567-e89b-42d3-a456-426614174000"),
            "123e4567-e89b-42d3-a456-426614174000");
  EXPECT_EQ(normalize_uuid("not-a-uuid"), std::nullopt);
  EXPECT_EQ(normalize_uuid(""), std::nullopt);
}

TEST(IdsTest, NewUuidHasVersion4AndRfc4122Variant) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_uuid_v4();
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(normalize_uuid(id), id) << "not lower case: " << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  }
}

TEST(IdsTest, NewUuidsAreUniqueAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < kPerThread; ++i) mine.push_back(new_uuid_v4());
      const std::lock_guard<std::mutex> lock(mutex);
      seen.insert(mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

struct KeyCase {
  const char* name;
  std::string key;
  bool valid;
};

class IdempotencyKeyTest : public testing::TestWithParam<KeyCase> {};

TEST_P(IdempotencyKeyTest, AcceptsOnlyPrintableAsciiUpTo255) {
  EXPECT_EQ(is_valid_idempotency_key(GetParam().key), GetParam().valid);
}

const std::vector<KeyCase> kKeyCases = {
    {"AcceptsSingleCharacter", "a", true},
    {"AcceptsUuid", "123e4567-e89b-42d3-a456-426614174000", true},
    {"AcceptsPunctuation", "order#42:retry/1?x=~!", true},
    {"AcceptsAllPrintableAscii", "!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~", true},
    {"Accepts255Characters", std::string(255, 'k'), true},
    {"RejectsEmpty", "", false},
    {"Rejects256Characters", std::string(256, 'k'), false},
    {"RejectsSpace", "order 42", false},
    {"RejectsLeadingSpace", " key", false},
    {"RejectsTab", "key\t", false},
    {"RejectsNewline", "key\n", false},
    {"RejectsDelete", "key\x7f", false},
    {"RejectsNul", std::string("key\0", 4), false},
    {"RejectsNonAscii", "cl\xc3\xa9", false},
    {"RejectsHighByte", "\xff", false},
};

INSTANTIATE_TEST_SUITE_P(Table, IdempotencyKeyTest, testing::ValuesIn(kKeyCases),
                         [](const testing::TestParamInfo<KeyCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace wallet::domain
