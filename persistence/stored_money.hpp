// Private to persistence/: reading stored amounts (numeric text at the currency's exponent) and
// the currency codes the ledger holds.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "domain/currency.hpp"

namespace wallet::persistence {

// The exponent of a stored currency code: every stored amount is read with it.
inline int exponent_of(const std::string& currency) {
  const auto* found = domain::configured_currencies().find(currency);
  if (!found) {
    throw std::runtime_error("the ledger holds currency " + currency +
                             ", which CURRENCIES does not configure");
  }
  return found->exponent;
}

inline int64_t minor_units(const pqxx::field& field, int exponent = 2) {
  auto value = domain::parse_stored_minor(field.c_str(), exponent);
  if (!value) throw std::runtime_error("unexpected numeric value in the ledger");
  return *value;
}

inline std::string money(int64_t minor, int exponent) {
  return domain::format_minor(minor, exponent);
}

constexpr const char* kRfc3339 = "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"";

}  // namespace wallet::persistence
