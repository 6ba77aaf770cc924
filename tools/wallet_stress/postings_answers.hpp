// What a --postings run was answered, judged from the driver's side: every definitive answer must
// be one its request allows (a 201 describing exactly the postings sent, or for a reversal the
// target's postings inverted; the refusal a `refused` transaction was planned to get; 409
// insufficient_funds naming an account that pays in it; for a reversal also 409 already_reversed),
// and from the 201s the driver's expectation: each account's balance and, per currency, what
// came in from @world less what went out. Then the API's view: GET /transactions/{id} of a sample
// must show what was answered, with the reversed amount the reversals answered 201 add up to.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/wallet_stress/invariant.hpp"
#include "tools/wallet_stress/postings_load.hpp"
#include "tools/wallet_stress/postings_plan.hpp"
#include "tools/wallet_stress/postings_setup.hpp"

namespace wallet::stress {

// A key answered 201 with a transaction id.
struct AnsweredTransaction {
  uint32_t op = 0;
  std::string transaction_id;
  // The postings of the transaction: as sent (POST /transactions), or as answered (a reversal);
  // sides are PostingsSetup::accounts indexes or kWorld.
  std::vector<PlannedPosting> postings;
  nlohmann::json body;  // the 201 body
  bool reversal = false;
};

struct PostingsFacts {
  std::vector<AnsweredTransaction> accepted;
  std::vector<int64_t> accepted_of_op;   // per op: index into `accepted`, -1 when not answered 201
  std::vector<int64_t> expected_minor;   // per PostingsSetup::accounts: what the 201s leave there
  std::vector<int64_t> world_net_minor;  // per currency: @world deposits - withdrawals of the 201s
  // Per op: the reversals of it answered 201 (amount of its one posting added up; and how many).
  std::vector<int64_t> reversed_minor;
  std::vector<uint32_t> reversals_accepted;
  nlohmann::json figures;  // counts per kind and per answer, for the report
};

// Fills the facts and the check "every answer is one its request allows". With
// --self-check-postings outcomes, the first load transaction answered 201 is judged as if it had
// been planned to be refused: that check must then fail (once).
PostingsFacts judge_postings_answers(const StressConfig& config, const PostingPlan& plan,
                                     const PostingsSetup& setup, const PostingsLoad& load,
                                     InvariantResult& allowed);

// GET /transactions/{id} of every reversed transaction and of others up to --api-sample: the
// transaction as answered (id, postings, metadata, reference, created_at, reverses), reversed /
// reversed_amount as the reversals answered 201 add up. With --self-check-postings api, one
// expected amount is off by one minor unit: the check must then fail (once).
InvariantResult check_postings_through_api(const StressConfig& config, const PostingPlan& plan,
                                           const PostingsSetup& setup, const PostingsFacts& facts);

}  // namespace wallet::stress
