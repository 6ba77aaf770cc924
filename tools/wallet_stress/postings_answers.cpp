// The answers of a --postings run judged against its plan; the driver's expectation; GET
// /transactions/{id} against the answers.
#include "tools/wallet_stress/postings_answers.hpp"

#include <map>
#include <optional>
#include <unordered_map>

#include "domain/currency.hpp"
#include "domain/ids.hpp"
#include "tools/wallet_stress/worker_pool.hpp"

namespace wallet::stress {
namespace {

constexpr int kMaxAttempts = 20;

// A string field of a JSON object ("" when it is not one). Never operator[] on a const json: a
// missing key there is undefined behaviour.
std::string string_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string error_code(const nlohmann::json& body) {
  auto it = body.is_object() ? body.find("error") : body.end();
  return it != body.end() ? string_field(*it, "code") : "";
}

std::string error_account(const nlohmann::json& body) {
  auto it = body.is_object() ? body.find("error") : body.end();
  return it != body.end() ? string_field(*it, "account_id") : "";
}

// Whether `account` (an index) pays in these postings (its net change is negative).
bool pays(const std::vector<PlannedPosting>& postings, int32_t account) {
  int64_t net = 0;
  for (const auto& p : postings) {
    if (p.from == account) net -= p.amount_minor;
    if (p.to == account) net += p.amount_minor;
  }
  return net < 0;
}

class AnswerJudge {
 public:
  AnswerJudge(const StressConfig& config, const PostingPlan& plan, const PostingsSetup& setup,
              const PostingsLoad& load, PostingsFacts& facts, InvariantResult& allowed)
      : config_(config), plan_(plan), setup_(setup), load_(load), facts_(facts), allowed_(allowed) {
    for (size_t a = 0; a < setup.accounts.size(); ++a) {
      index_.emplace(setup.accounts[a].account_id, int32_t(a));
    }
  }

  // Ops in order: a reversal's target is judged before it.
  void judge(uint32_t op) {
    const auto& k = load_.keys[op];
    if (!k.sent || k.answers == 0) return;  // unsent, or without an answer (the key checks say so)
    const auto& o = plan_.ops[op];
    auto body = nlohmann::json::parse(k.body, nullptr, false);
    const std::string what = plan_.key(op) + " (" + posting_kind_name(o.kind) + "): ";
    const std::string answer = std::to_string(k.status) + " " + k.body.substr(0, 300);
    Refusal refusal = o.refusal;
    int32_t refused_account = o.refused_account;
    if (config_.postings.plants("outcomes") && !tampered_ && k.status == 201 &&
        op >= plan_.funding_ops && o.kind != PostingKind::reverse && !o.postings.empty()) {
      // The negative control: judged as if planned to be refused for lack of funds.
      refusal = Refusal::insufficient_funds;
      refused_account = o.postings.front().to;
      tampered_ = true;
    }
    if (refusal != Refusal::none) {
      const std::string planned = plan_.side(refused_account, setup_);
      const std::string named = error_account(body);
      const bool named_right =
          named == planned || (named.empty() && refusal == Refusal::currency_mismatch);
      if (k.status != refusal_status(refusal) || error_code(body) != refusal_code(refusal) ||
          !named_right) {
        allowed_.fail(what + "must be refused " + std::to_string(refusal_status(refusal)) + " " +
                      refusal_code(refusal) + " naming " + planned + ", answered " + answer);
      }
      if (k.status == 201) accept(op, body, o.postings, false);  // count what it did all the same
      return;
    }
    if (k.status == 201) {
      if (o.kind == PostingKind::reverse) return judge_reversal(op, body, what, answer);
      const auto sent = nlohmann::json::parse(plan_.body(op, setup_));
      const bool right = body.is_object() && body["transaction_id"].is_string() &&
                         domain::is_uuid(body["transaction_id"].get<std::string>()) &&
                         body["postings"] == sent["postings"] &&
                         body["metadata"] == sent["metadata"] &&
                         body["reference"] == sent["reference"] && !body.contains("reverses");
      if (!right) allowed_.fail(what + "the 201 does not describe the transaction sent: " + answer);
      accept(op, body, o.postings, false);
      return;
    }
    const std::string code = error_code(body);
    const auto named = index_.find(error_account(body));
    const bool names_payer = named != index_.end() && pays(payers_of(op), named->second);
    const bool may_lack_funds = o.kind != PostingKind::fund && o.kind != PostingKind::deposit;
    if (k.status == 409 && code == "insufficient_funds" && may_lack_funds && names_payer) return;
    if (k.status == 409 && code == "already_reversed" && o.kind == PostingKind::reverse) return;
    allowed_.fail(what + "answered " + answer);
  }

 private:
  // The postings whose payers may lack the funds: the op's, or for a reversal its target's
  // inverted (the target's payees pay it back).
  std::vector<PlannedPosting> payers_of(uint32_t op) const {
    const auto& o = plan_.ops[op];
    if (o.kind != PostingKind::reverse) return o.postings;
    std::vector<PlannedPosting> inverted;
    for (auto p : plan_.ops[o.target].postings) {
      std::swap(p.from, p.to);
      inverted.push_back(p);
    }
    return inverted;
  }

  // `body` is the answer parsed (a copy: reading a missing field adds a null to it).
  void judge_reversal(uint32_t op, nlohmann::json& body, const std::string& what,
                      const std::string& answer) {
    const auto& o = plan_.ops[op];
    const auto target = facts_.accepted_of_op[o.target];
    if (target < 0) return allowed_.fail(what + "a reversal of a transaction not answered 201");
    const auto& original = facts_.accepted[size_t(target)];
    const auto metadata = original.body.find("metadata");
    std::vector<PlannedPosting> postings;
    bool right = body.is_object() && body["transaction_id"].is_string() &&
                 domain::is_uuid(body["transaction_id"].get<std::string>()) &&
                 body["reverses"] == original.transaction_id && metadata != original.body.end() &&
                 body["metadata"] == *metadata && body["reference"].is_null() &&
                 body["postings"].is_array() && body["postings"].size() == original.postings.size();
    for (size_t i = 0; right && i < original.postings.size(); ++i) {
      const auto& want = original.postings[i];
      auto& got = body["postings"][i];
      const auto& currency = setup_.currencies[want.currency];
      // 0 when unreadable (refused below).
      const int64_t amount =
          got["amount"].is_string()
              ? domain::parse_stored_minor(got["amount"].get<std::string>(), currency.exponent)
                    .value_or(0)
              : 0;
      right = got["from"] == plan_.side(want.to, setup_) &&
              got["to"] == plan_.side(want.from, setup_) && got["currency"] == currency.code &&
              got["amount"] == domain::format_minor(amount, currency.exponent) && amount > 0 &&
              amount <= want.amount_minor;
      if (right && (original.postings.size() > 1 || o.reverse_minor > 0)) {
        right = amount == (o.reverse_minor > 0 ? o.reverse_minor : want.amount_minor);
      }
      if (right) postings.push_back({want.to, want.from, amount, want.currency});
    }
    if (!right) {
      return allowed_.fail(what + "the 201 is not the inverse of " + original.transaction_id +
                           ": " + answer);
    }
    accept(op, body, postings, true);
    if (postings.size() == 1) facts_.reversed_minor[o.target] += postings.front().amount_minor;
    ++facts_.reversals_accepted[o.target];
  }

  void accept(uint32_t op, const nlohmann::json& body, std::vector<PlannedPosting> postings,
              bool reversal) {
    const auto id = domain::normalize_uuid(string_field(body, "transaction_id"));
    if (!id) return;
    for (const auto& p : postings) {
      if (p.from >= 0) facts_.expected_minor[size_t(p.from)] -= p.amount_minor;
      if (p.to >= 0) facts_.expected_minor[size_t(p.to)] += p.amount_minor;
      if (p.from == kWorld) facts_.world_net_minor[p.currency] += p.amount_minor;
      if (p.to == kWorld) facts_.world_net_minor[p.currency] -= p.amount_minor;
    }
    facts_.accepted_of_op[op] = int64_t(facts_.accepted.size());
    facts_.accepted.push_back({op, *id, std::move(postings), body, reversal});
  }

  const StressConfig& config_;
  const PostingPlan& plan_;
  const PostingsSetup& setup_;
  const PostingsLoad& load_;
  PostingsFacts& facts_;
  InvariantResult& allowed_;
  std::unordered_map<std::string, int32_t> index_;
  bool tampered_ = false;
};

// Counts per kind (sent, 201, each refusal code) and of the reversal groups, for the report.
nlohmann::json postings_figures(const PostingPlan& plan, const PostingsLoad& load,
                                const PostingsFacts& facts) {
  nlohmann::json kinds = nlohmann::json::object();
  uint64_t race_winners = 0, whole = 0, partial = 0, racing = 0;
  std::map<uint32_t, uint32_t> winners_per_race;
  for (size_t op = 0; op < plan.ops.size(); ++op) {
    const auto& o = plan.ops[op];
    const auto& k = load.keys[op];
    auto& entry = kinds[posting_kind_name(o.kind)];
    if (entry.is_null()) {
      entry = {{"planned", 0}, {"sent", 0}, {"accepted", 0}, {"retried", 0}, {"refused", {}}};
    }
    entry["planned"] = entry["planned"].get<uint64_t>() + 1;
    entry["retried"] = entry["retried"].get<uint64_t>() + load.retries[op];
    if (o.kind == PostingKind::reverse) {
      (o.race ? racing : o.reverse_minor ? partial : whole) += 1;
      if (o.race && k.status == 201) race_winners += 1;
    }
    if (!k.sent) continue;
    entry["sent"] = entry["sent"].get<uint64_t>() + 1;
    if (k.status == 201) {
      entry["accepted"] = entry["accepted"].get<uint64_t>() + 1;
    } else if (k.status != 0) {
      auto body = nlohmann::json::parse(k.body, nullptr, false);
      std::string code = error_code(body);
      if (code.empty()) code = std::to_string(k.status);
      auto& refused = entry["refused"][code];
      refused = refused.is_null() ? 1 : refused.get<uint64_t>() + 1;
    }
  }
  for (auto& [name, entry] : kinds.items()) {
    if (entry["refused"].is_null()) entry["refused"] = nlohmann::json::object();
  }
  return {
      {"kinds", kinds},
      {"transactions_answered_201", facts.accepted.size()},
      {"reversals",
       {{"whole", whole},
        {"partial", partial},
        {"racing", racing},
        {"racing_groups", plan.races},
        {"racing_winners", race_winners}}},
      {"duplicates", {{"concurrent", plan.concurrent_duplicates}, {"late", plan.late_duplicates}}}};
}

}  // namespace

PostingsFacts judge_postings_answers(const StressConfig& config, const PostingPlan& plan,
                                     const PostingsSetup& setup, const PostingsLoad& load,
                                     InvariantResult& allowed) {
  PostingsFacts facts;
  facts.accepted_of_op.assign(plan.ops.size(), -1);
  facts.expected_minor.resize(setup.accounts.size());
  for (size_t a = 0; a < setup.accounts.size(); ++a) {
    facts.expected_minor[a] = setup.accounts[a].baseline_minor;
  }
  facts.world_net_minor.assign(setup.currencies.size(), 0);
  facts.reversed_minor.assign(plan.ops.size(), 0);
  facts.reversals_accepted.assign(plan.ops.size(), 0);
  AnswerJudge judge(config, plan, setup, load, facts, allowed);
  for (size_t op = 0; op < plan.ops.size(); ++op) judge.judge(uint32_t(op));
  facts.figures = postings_figures(plan, load, facts);
  return facts;
}

InvariantResult check_postings_through_api(const StressConfig& config, const PostingPlan& plan,
                                           const PostingsSetup& setup, const PostingsFacts& facts) {
  InvariantResult api(
      "postings: GET /transactions/{id} = the 201 answered, reversed amounts = the reversals "
      "answered 201");
  // The reversed transactions first, then the others in op order, up to the sample size.
  std::vector<size_t> sample;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < facts.accepted.size(); ++i) {
      const bool reversed = facts.reversals_accepted[facts.accepted[i].op] > 0;
      if (reversed == (pass == 0) && sample.size() < size_t(config.postings.api_sample)) {
        sample.push_back(i);
      }
    }
  }
  std::vector<HttpAnswer> reads(sample.size());
  run_parallel(sample.size(), config.concurrency, config.transaction_services,
               config.request_timeout_ms, [&](HttpSession& session, size_t i) {
                 for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
                   reads[i] =
                       session.get("/transactions/" + facts.accepted[sample[i]].transaction_id);
                   if (!is_retryable(reads[i].status)) break;
                   retry_pause(attempt);
                 }
               });
  for (size_t i = 0; i < sample.size(); ++i) {
    const auto& t = facts.accepted[sample[i]];
    nlohmann::json want = t.body;
    if (config.postings.plants("api") && i == 0 && !t.postings.empty()) {
      // The negative control: the answer remembered one minor unit off.
      const auto& p = t.postings.front();
      want["postings"][0]["amount"] =
          domain::format_minor(p.amount_minor + 1, setup.currencies[p.currency].exponent);
    }
    auto got = nlohmann::json::parse(reads[i].body, nullptr, false);
    const std::string what = t.transaction_id + " (" + plan.key(t.op) + "): ";
    if (reads[i].status != 200 || !got.is_object()) {
      api.fail(what + "GET answered " + std::to_string(reads[i].status) + " " +
               reads[i].body.substr(0, 200));
      continue;
    }
    for (const char* field :
         {"transaction_id", "postings", "metadata", "reference", "created_at", "reverses"}) {
      const auto g = got.contains(field) ? got[field] : nlohmann::json();
      const auto w = want.contains(field) ? want[field] : nlohmann::json();
      if (g != w) api.fail(what + field + " is " + g.dump() + ", answered " + w.dump());
    }
    const uint32_t reversals = facts.reversals_accepted[t.op];
    if (t.postings.size() == 1) {
      const auto& p = t.postings.front();
      const std::string reversed =
          domain::format_minor(facts.reversed_minor[t.op], setup.currencies[p.currency].exponent);
      const bool whole = facts.reversed_minor[t.op] >= p.amount_minor;
      if (got["reversed_amount"] != reversed || got["reversed"] != whole) {
        api.fail(what + "reversed_amount " + got["reversed_amount"].dump() + " reversed " +
                 got["reversed"].dump() + ", the reversals answered 201 add up to " + reversed);
      }
    } else if (got["reversed"] != (reversals > 0)) {
      api.fail(what + "reversed " + got["reversed"].dump() + " after " + std::to_string(reversals) +
               " reversals answered 201");
    }
  }
  api.note = std::to_string(sample.size()) + " of " + std::to_string(facts.accepted.size()) +
             " transactions answered 201 read back";
  return api;
}

}  // namespace wallet::stress
