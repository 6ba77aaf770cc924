// PostingClient: what simulated clients of POST /transactions and POST /transactions/{id}/reverse
// send (SPEC.md section 8), with what the HTTP layer adds before the Ledger sees it
// (http/transactions_api.cpp): transactions of 1..5 postings over the simulated accounts (a
// payment with its fee, splits, money from and to @world, an account on both sides, an exchange
// through a liquidity account of each currency, often more than the payer holds; now and then an
// account that does not exist, or a posting in another currency than its account's; with two
// owners, a third of them with payers another instance serves: transactions across owners), and
// reversals of committed transactions, whole or in part, read from the committed state as the
// HTTP layer reads the original (sometimes a read that raced a reversal committing meanwhile, so
// that Postgres' guard must refuse the second). Its own generator: the
// schedules of the other modes do not change.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "actors/ledger_messages.hpp"
#include "test/simulation/client_op.hpp"
#include "test/simulation/model_ledger.hpp"

namespace wallet::simulation {

// The second currency of the postings mode (accounts of it only take postings).
inline constexpr const char* kSecondCurrency = "EUR";

struct PostingAccounts {
  std::vector<std::string> local;   // the simulated instance's, in the default currency
  std::vector<std::string> second;  // the simulated instance's, in kSecondCurrency
  std::vector<std::string> remote;  // served by another instance (default currency)
  std::string unknown;              // an account that does not exist
};

// A transaction's postings as ledger_transactions holds them (its JSON text), in minor units.
std::vector<actors::Posting> parse_postings(const std::string& postings_json);
std::string postings_text(const std::vector<actors::Posting>& postings);
int exponent_of(const std::string& currency);

class PostingClient {
 public:
  PostingClient(uint64_t seed, PostingAccounts accounts)
      : rng_(seed), accounts_(std::move(accounts)) {}

  // A new transaction, or a reversal of one committed in `state` (as the HTTP layer reads it now).
  void aim(ClientOp& op, const ModelState& state);
  // A retry of `original`'s request; a reversal is computed again from what `state` holds now.
  void repeat(ClientOp& op, const ClientOp& original, const ModelState& state);
  // A reversal answered kRecheck (it waited behind racing ones): read and decided anew.
  static void read_again(ClientOp& op, const ModelState& state) { read_reversal(op, state, false); }

  // The key's scope and the request's meaning (domain::canonical_transaction, canonical_reversal).
  static std::string tag_endpoint(const ClientOp& op);
  static std::string request_hash(const ClientOp& op);
  // What the HTTP layer hands to Ledger::transact for `op` (the caller sets the reply).
  static actors::TransactionCommand command(const ClientOp& op);

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }
  const std::string& local();
  const std::string& payer();
  const std::string& payee(const std::string& payer);
  void transaction(ClientOp& op);
  // Moves the debits of some postings between accounts to payers another instance serves.
  void pay_from_remote(std::vector<actors::Posting>& postings);
  bool reversal(ClientOp& op, const ModelState& state);
  // The reversal as http/transactions_api.cpp's reversal_of computes it from the original and
  // what it read as reversed already (`stale`: a read from before a reversal that committed since).
  static void read_reversal(ClientOp& op, const ModelState& state, bool stale);

  std::mt19937_64 rng_;
  PostingAccounts accounts_;
};

}  // namespace wallet::simulation
