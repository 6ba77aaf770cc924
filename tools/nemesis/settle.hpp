// `wallet-nemesis settle`: the final phase, after the nemesis healed everything. Every op whose
// outcome is still unknown is resolved by sending it again with its key (the idempotency gate
// answers with the first outcome, or executes it now: what a real client's retry would get), the
// money in transit is given time to arrive, every account is read on every instance (final reads,
// recorded like the others), and the database is read into the snapshot.
#pragma once

#include <string>
#include <vector>

namespace wallet::nemesis {

struct SettleConfig {
  std::string history_path;
  std::vector<std::string> tx_urls;
  std::string database_url;
  std::string snapshot_path;
  int resolve_deadline_s = 120;  // per op; an op still unknown after it stays "info"
  int quiesce_deadline_s = 120;  // for the money in transit to arrive
};

int settle(const SettleConfig& config);

}  // namespace wallet::nemesis
