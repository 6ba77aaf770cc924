#include "test/simulation/across_owners.hpp"

#include <algorithm>

#include "test/simulation/across_owners_check.hpp"

namespace wallet::simulation {

AcrossOwners::AcrossOwners(uint64_t seed, OtherInstance other,
                           std::function<bool(const std::string&)> served_here)
    : other_(other),
      served_here_(std::move(served_here)),
      hold_owner_(seed ^ 0x686f6c6473ULL, std::move(other)),
      rng_(seed ^ 0x7265736f6c7665ULL),
      seed_(seed) {}

void AcrossOwners::start(actors::Ledger* ledger, std::vector<std::string> payers,
                         std::vector<std::string> payees) {
  ledger_ = ledger;
  coordinator_.emplace(seed_ ^ 0x636f6f7264ULL, other_, ledger, std::move(payers),
                       std::move(payees));
}

void AcrossOwners::step() {
  hold_owner_.step();
  coordinator_->step();
  if (rng_() % 100 < 3) resolve_here();
}

int AcrossOwners::quiesce() {
  int done = hold_owner_.quiesce() + coordinator_->quiesce();
  // Once per moment of virtual time: stalled work must see time pass to get on.
  if (done > 0 || resolving_ || resolved_at_ms_ == other_.now_ms()) return done;
  const auto& holds = other_.model->state().holds;
  const bool due = std::any_of(holds.begin(), holds.end(), [this](const auto& h) {
    return h.second.status == "pending" && !h.second.transaction_id.empty() &&
           served_here_(h.second.from_user_id);
  });
  if (!due) return 0;
  resolved_at_ms_ = other_.now_ms();
  resolve_here();
  return 1;
}

bool AcrossOwners::busy() const {
  const auto& holds = other_.model->state().holds;
  return hold_owner_.busy() || coordinator_->busy() ||
         std::any_of(holds.begin(), holds.end(), [](const auto& h) {
           return h.second.status == "pending" && !h.second.transaction_id.empty();
         });
}

void AcrossOwners::resolve_here() {
  if (resolving_) return;
  resolving_ = true;
  other_.note("sim-a's resolver looks for transaction holds");
  ledger_->resolve_transaction_holds([this](size_t n) {
    resolving_ = false;
    other_.note("sim-a's resolver found " + std::to_string(n) + " transaction holds");
  });
}

void AcrossOwners::after_commit() {
  if (!failures_.empty()) return;  // the first commit that broke it tells
  failures_ = check_debits_whole(other_.model->state());
}

void AcrossOwners::check(const std::vector<std::shared_ptr<ClientOp>>& ops,
                         const std::function<void(std::string)>& fail, int& committed_here,
                         int& aborted_here, int& committed_there, int& aborted_there) const {
  const auto& state = other_.model->state();
  auto report = [&fail](std::vector<std::string> failures) {
    for (auto& failure : failures) fail("across owners: " + failure);
  };
  report(failures_);
  report(check_holds_settled(state));
  report(check_decision_answers(ops, state, hold_owner_.transactions()));
  auto count = [&state](const std::set<std::string>& ids, int& committed, int& aborted) {
    for (const auto& id : ids) {
      auto decided = state.decisions.find(id);
      if (decided == state.decisions.end()) continue;
      (decided->second == persistence::TransactionDecision::commit ? committed : aborted) += 1;
    }
  };
  count(hold_owner_.transactions(), committed_here, aborted_here);
  count(coordinator_->transactions(), committed_there, aborted_there);
}

bool AcrossOwners::refusal_justified(const ClientOp& op,
                                     const std::map<std::string, ModelRules>& initial) const {
  return across_refusal_justified(op, other_.model->state(), initial, hold_owner_.payers());
}

bool AcrossOwners::coordinated_elsewhere(const std::string& transaction_id) const {
  return coordinator_ && coordinator_->transactions().count(transaction_id) > 0;
}

}  // namespace wallet::simulation
