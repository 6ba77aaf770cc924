// PostingPlan: the transactions of one --postings run, drawn from the seed before any request is
// sent (kinds in postings_config.hpp), and their send order. The plan starts with the funding
// transactions (from @world into every account, sent before the load); the load's operations
// follow, a share of them sent twice with the same Idempotency-Key (as TransferPlan does). A
// reversal group names an earlier operation; its reversals are sent once that one is answered 201
// (not at all otherwise), the members of a racing group one right behind the other, each with its
// own key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/wallet_stress/postings_setup.hpp"
#include "tools/wallet_stress/stress_config.hpp"
#include "tools/wallet_stress/transfer_plan.hpp"

namespace wallet::stress {

enum class PostingKind : uint8_t {
  fund,
  transfer,
  payment,
  split,
  exchange,
  deposit,
  withdraw,
  refused,
  reverse
};
constexpr size_t kPostingKinds = 9;
const char* posting_kind_name(PostingKind kind);

// A posting's side: an index into PostingsSetup::accounts, or one of these.
constexpr int32_t kWorld = -1;  // @world
constexpr int32_t kGhost = -2;  // an account id that does not exist (PostingPlan::ghost_account)

struct PlannedPosting {
  int32_t from = kWorld, to = kWorld;
  int64_t amount_minor = 0;  // minor units of `currency`
  uint32_t currency = 0;     // index into PostingsSetup::currencies
};

// The answer a `refused` transaction must get (the others: 201, or 409 insufficient_funds naming
// an account that pays in it).
enum class Refusal : uint8_t { none, insufficient_funds, account_not_found, currency_mismatch };
const char* refusal_code(Refusal refusal);
int refusal_status(Refusal refusal);

struct PostingOp {
  PostingKind kind = PostingKind::transfer;
  std::vector<PlannedPosting> postings;  // every kind but reverse
  Refusal refusal = Refusal::none;       // refused: the answer it must get...
  int32_t refused_account = kWorld;      // ...naming this account
  uint32_t target = 0;                   // reverse: the operation reversed
  int64_t reverse_minor =
      0;              // reverse: amount of the target's one posting; 0: {} (all, or all left)
  uint32_t race = 0;  // reverse: racing group (1-based; 0: not racing)
};

struct PostingPlan {
  std::string run_id;
  std::string ghost_account;  // a fresh UUID no account has
  std::vector<PostingOp> ops;
  size_t funding_ops = 0;      // ops[0, funding_ops): the funding, sent before the load
  std::vector<Send> schedule;  // the load: ops[funding_ops, ops.size()), with duplicates
  size_t concurrent_duplicates = 0;
  size_t late_duplicates = 0;
  uint32_t races = 0;  // racing groups

  std::string key(uint32_t op) const;  // its Idempotency-Key, also its reference
  std::string path(uint32_t op, const std::string& target_id) const;
  std::string body(uint32_t op, const PostingsSetup& setup) const;
  // "@world", the account's id, or the ghost's.
  std::string side(int32_t side, const PostingsSetup& setup) const;
};

PostingPlan build_postings_plan(const StressConfig& config, const PostingsSetup& setup,
                                const std::string& run_id);

}  // namespace wallet::stress
