#include "test/simulation/retention_check.hpp"

#include <map>

namespace wallet::simulation {

const StoredOutcome* outcome_answered(const ClientOp& op, const std::vector<StoredOutcome>& log) {
  const StoredOutcome* found = nullptr;
  for (const auto& stored : log) {
    const auto& o = stored.outcome;
    if (o.endpoint != op.tag->endpoint || o.key != op.tag->key) continue;
    if (o.request_hash != op.tag->request_hash || o.status != op.reply.status() ||
        o.body != op.reply.body() || stored.created_ms > op.answered_ms) {
      continue;
    }
    found = &stored;
  }
  return found;
}

std::vector<std::string> check_retention(const std::vector<std::shared_ptr<ClientOp>>& ops,
                                         const std::vector<StoredOutcome>& log, int64_t ttl_ms) {
  std::vector<std::string> failures;
  if (ttl_ms <= 0) return failures;
  // No replay of an outcome that was past its retention when the request was sent. (A duplicate
  // that arrived while the outcome was live, or before it was stored, may get it later: it waited
  // for the original, whose commit reply can come after the outcome's retention.)
  for (const auto& op : ops) {
    if (!op->tag || op->replies != 1 || !op->reply.replayed) continue;
    const auto* stored = outcome_answered(*op, log);
    if (!stored) continue;  // check_keys reports an answer that is no stored outcome
    const int64_t age_ms = op->sent_ms - stored->created_ms;
    if (age_ms <= ttl_ms) continue;
    failures.push_back("retention: client #" + std::to_string(op->id) + " got a replay (" +
                       std::to_string(op->reply.status()) + ") of key " + op->tag->key +
                       "'s outcome stored at " + std::to_string(stored->created_ms) +
                       " ms, which was " + std::to_string(age_ms) +
                       " ms old when it was sent (TTL " + std::to_string(ttl_ms) + " ms)");
  }
  // No second execution of a key while its earlier outcome was within its retention.
  std::map<persistence::KeyRef, int64_t> last_stored_ms;
  for (const auto& stored : log) {
    const persistence::KeyRef key{stored.outcome.endpoint, stored.outcome.key};
    auto [it, fresh] = last_stored_ms.try_emplace(key, stored.created_ms);
    if (fresh) continue;
    if (stored.created_ms - it->second < ttl_ms) {
      failures.push_back("retention: key " + key.second + " was executed anew (stored again at " +
                         std::to_string(stored.created_ms) + " ms) while its outcome of " +
                         std::to_string(it->second) + " ms was within its retention (TTL " +
                         std::to_string(ttl_ms) + " ms)");
    }
    it->second = stored.created_ms;
  }
  return failures;
}

}  // namespace wallet::simulation
