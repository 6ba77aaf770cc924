// PostingsOptions: what --postings runs (SPEC.md section 8, "Transactions of many postings"): the
// weights of its operation mix, the checks whose negative control is planted, and how many
// answered transactions are read back through GET /transactions/{id}. Part of StressConfig.
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace wallet::stress {

// The operations of a --postings run (each one POST /transactions, or a reversal).
//   transfer  A->B, one posting (the one kind reversed in part)
//   payment   A->B and A->FEE (the currency's fee account), one currency
//   split     A->B, A->C, A->D, one currency
//   exchange  A(c1)->LIQ(c1) and LIQ(c2)->B(c2): one transaction, two currencies
//   deposit   @world->A (every other one in two currencies at once)
//   withdraw  A->@world
//   refused   a transaction with valid postings and one that must refuse it whole: an
//             overspend (409 insufficient_funds), an unknown account (404 account_not_found) or
//             a posting into an account of another currency (400 currency_mismatch)
//   reverse   a reversal group of an earlier transfer, payment, split or exchange: whole, partial
//             (one posting), or three racing reversals with different keys
struct PostingsMix {
  int transfer = 15, payment = 20, split = 10, exchange = 15, deposit = 8, withdraw = 7,
      refused = 5, reverse = 20;
  int total() const {
    return transfer + payment + split + exchange + deposit + withdraw + refused + reverse;
  }
};

// The checks of --postings, by the name --self-check-postings takes for its negative control.
inline const std::vector<std::string>& postings_check_names() {
  static const std::vector<std::string> names{"outcomes",  "conservation", "zero-sum", "partial",
                                              "reversals", "chain",        "api"};
  return names;
}

struct PostingsOptions {
  bool enabled = false;  // --postings
  std::string mix =
      "transfer=15,payment=20,split=10,exchange=15,deposit=8,withdraw=7,refused=5,"
      "reverse=20";
  PostingsMix weights;
  // --self-check-postings: the checks whose violation is planted (names above).
  std::vector<std::string> self_checks;
  std::set<std::string> planted;  // self_checks resolved ("all" expanded)
  int api_sample = 300;           // GET /transactions/{id} for at most this many transactions

  bool plants(const std::string& check) const { return planted.count(check) > 0; }
};

// Parses --postings-mix and --self-check-postings; an error text, empty when both are valid.
inline std::string parse_postings_options(PostingsOptions& o) {
  PostingsMix w{0, 0, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= o.mix.size()) {
    const size_t end = std::min(o.mix.find(',', start), o.mix.size());
    const std::string item = o.mix.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return "--postings-mix items are kind=weight";
    const std::string kind = item.substr(0, eq);
    const std::string digits = item.substr(eq + 1);
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return "--postings-mix weight of " + kind + " must be a whole number";
    }
    int* slot = kind == "transfer"   ? &w.transfer
                : kind == "payment"  ? &w.payment
                : kind == "split"    ? &w.split
                : kind == "exchange" ? &w.exchange
                : kind == "deposit"  ? &w.deposit
                : kind == "withdraw" ? &w.withdraw
                : kind == "refused"  ? &w.refused
                : kind == "reverse"  ? &w.reverse
                                     : nullptr;
    if (!slot) {
      return "--postings-mix kinds are transfer, payment, split, exchange, deposit, withdraw, "
             "refused, reverse";
    }
    *slot = std::stoi(digits);
    start = end + 1;
  }
  if (w.total() <= 0) return "--postings-mix weights must not all be 0";
  if (w.reverse > 0 && w.transfer + w.payment + w.split + w.exchange == 0) {
    return "--postings-mix reverse needs transfer, payment, split or exchange to reverse";
  }
  o.weights = w;
  o.planted.clear();
  for (const auto& name : o.self_checks) {
    if (name == "all") {
      o.planted.insert(postings_check_names().begin(), postings_check_names().end());
    } else if (std::find(postings_check_names().begin(), postings_check_names().end(), name) !=
               postings_check_names().end()) {
      o.planted.insert(name);
    } else {
      return "--self-check-postings takes outcomes, conservation, zero-sum, partial, reversals, "
             "chain, api or all";
    }
  }
  return "";
}

}  // namespace wallet::stress
