// Email trimming, lower-casing and syntax checks (see email.hpp for the accepted subset).
#include "domain/email.hpp"

#include <optional>
#include <utility>

namespace wallet::domain {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_atext(char c) {
  if (is_lower_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
    case '-':
      return true;
    default:
      return false;
  }
}

Error email_error(std::string message) {
  return Error{ErrorCode::invalid_email, std::move(message)};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<Error> check_local_part(std::string_view local) {
  if (local.empty() || local.size() > kMaxEmailLocalPartLength) {
    return email_error("the part before '@' must be 1 to 64 characters");
  }
  for (char c : local) {
    if (c != '.' && !is_atext(c)) {
      return email_error("the part before '@' contains a character that is not allowed");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return email_error(
        "the part before '@' must not start or end with a dot or contain two dots in a row");
  }
  return std::nullopt;
}

std::optional<Error> check_label(std::string_view label) {
  if (label.empty()) {
    return email_error("the domain must not start or end with a dot or contain two dots in a row");
  }
  if (label.size() > kMaxDomainLabelLength) {
    return email_error("each part of the domain must be at most 63 characters");
  }
  for (char c : label) {
    if (c != '-' && !is_lower_alnum(c)) {
      return email_error("the domain may contain only letters, digits, '-' and dots");
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return email_error("a part of the domain must not start or end with '-'");
  }
  return std::nullopt;
}

std::optional<Error> check_domain(std::string_view domain) {
  const std::size_t last_dot = domain.rfind('.');
  if (domain.empty() || last_dot == std::string_view::npos) {
    return email_error("the domain must have at least two parts, like \"example.com\"");
  }
  std::string_view rest = domain;
  while (true) {
    const std::size_t dot = rest.find('.');
    if (auto error = check_label(rest.substr(0, dot))) return error;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  const std::string_view tld = domain.substr(last_dot + 1);
  bool all_digits = true;
  for (char c : tld) all_digits = all_digits && c >= '0' && c <= '9';
  if (tld.size() < 2 || all_digits) {
    return email_error("the top-level domain must be at least 2 characters and not all digits");
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> normalize_email(std::string_view raw) {
  const std::string_view trimmed = trim(raw);
  if (trimmed.empty()) return email_error("email must not be empty");
  if (trimmed.size() > kMaxEmailLength) return email_error("email must be at most 254 characters");

  std::string email(trimmed);
  for (char& c : email) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }

  const std::size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) {
    return email_error("email must contain exactly one '@'");
  }
  const std::string_view view(email);
  if (auto error = check_local_part(view.substr(0, at))) return std::move(*error);
  if (auto error = check_domain(view.substr(at + 1))) return std::move(*error);
  return email;
}

}  // namespace wallet::domain
