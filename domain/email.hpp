// Email normalization: the one place that decides which addresses user-service stores and looks up.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace wallet::domain {

constexpr std::size_t kMaxEmailLength = 254;
constexpr std::size_t kMaxEmailLocalPartLength = 64;
constexpr std::size_t kMaxDomainLabelLength = 63;

// Trims ASCII whitespace, lower-cases ASCII letters, then checks a conservative subset of
// RFC 5321/5322 (no quoted local parts, comments, IP literals or non-ASCII addresses):
//   - at most 254 characters and exactly one '@';
//   - local part 1..64 atext characters (letters, digits, !#$%&'*+/=?^_`{|}~-) and dots, with no
//     leading, trailing or consecutive dot;
//   - domain of at least two dot-separated labels, each 1..63 of [a-z0-9-] not starting or ending
//     with '-'; the last label (TLD) has at least 2 characters and is not all digits.
// Returns the normalized address or ErrorCode::invalid_email. Messages do not echo the address.
Result<std::string> normalize_email(std::string_view raw);

}  // namespace wallet::domain
