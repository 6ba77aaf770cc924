// Private to domain/'s request decoders (money_requests.cpp, account_requests.cpp,
// request_fields.cpp): the field readers more than one of them uses. Nothing outside domain/
// includes it; the public decoders are declared in domain/requests.hpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "domain/currency.hpp"
#include "domain/json_fields.hpp"
#include "domain/money.hpp"
#include "domain/result.hpp"

namespace wallet::domain::request_fields {

// A user id field: required, a string, a UUID (returned canonical).
Result<std::string> user_id_field(const FlatObject& fields, const std::string& name);
// An account id field: required, a string, a UUID (returned canonical).
Result<std::string> account_id_field(const FlatObject& fields, const std::string& name);
// A user-form amount: minor units of the default currency (Money's rules at exponent 2).
Result<Money> amount_field(const FlatObject& fields, const std::string& name);
// An account-form amount, as written (its currency is not known yet).
Result<Amount> written_amount(const FlatObject& fields, const std::string& name);
// Whether a request names accounts (SPEC.md section 8) rather than users; a mix is refused.
Result<bool> names_accounts(const FlatObject& fields, std::initializer_list<const char*> users,
                            std::initializer_list<const char*> accounts);
// The idempotency key of the body or the header (they must agree), checked.
Result<std::optional<std::string>> idempotency_key(const FlatObject& fields,
                                                   const std::optional<std::string>& header_key);
// The amount part of a canonical request text, user form or account form.
std::string amount_part(bool account_form, int64_t amount, const Amount& written);

}  // namespace wallet::domain::request_fields
