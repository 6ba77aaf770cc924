// The Ledger beyond one machine: the partitions this instance takes, serves and gives up (the
// Kafka group's thread calls these and blocks), and the credits in transit to the accounts it
// serves.
#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "actors/ledger.hpp"

namespace wallet::actors {

void Ledger::partitions(
    std::function<void(domain::Result<std::vector<persistence::PartitionOwner>>)> reply) {
  records_->list_partitions(std::move(reply));
}

void Ledger::in_transit(int limit, std::function<void(domain::Result<InTransitSummary>)> reply) {
  records_->in_transit_summary(limit, std::move(reply));
}

void Ledger::arrive(InTransit leg, std::function<void(bool)> done) {
  if (refusing_.load() || owned_elsewhere(leg.to_user_id)) {
    return done(false);  // whoever serves the payee's partition will find it
  }
  TransferCommand command;
  command.from_user_id = std::move(leg.from_user_id);
  command.to_user_id = std::move(leg.to_user_id);
  command.amount = leg.amount;
  command.transfer_id = std::move(leg.transfer_id);
  command.posting_of = std::move(leg.transaction_id);
  command.posting = leg.posting;
  command.arrival = true;
  command.deadline = deadline_from_now();
  command.reply = [done = std::move(done)](Reply reply) { done(reply.status() == 200); };
  caf::anon_send(coordinator_, coordinate_atom::value, std::move(command));
}

bool Ledger::take_partitions(const std::vector<int>& partitions) {
  auto& owned = options_.owned;
  if (!owned || partitions.empty()) return true;
  std::promise<domain::Result<std::vector<std::pair<int, int64_t>>>> taken;
  records_->take_partitions(partitions, owned->instance_id(),
                            [&taken](domain::Result<std::vector<std::pair<int, int64_t>>> result) {
                              taken.set_value(std::move(result));
                            });
  auto result = taken.get_future().get();
  if (!result) {
    spdlog::warn("event=partition_take_failed partitions={} cause=\"{}\"", partitions.size(),
                 result.error().message);
    return false;
  }
  for (const auto& [partition, epoch] : result.value()) {
    serve_partition(partition, epoch);
    spdlog::info("event=partition_taken partition={} epoch={} instance={}", partition, epoch,
                 owned->instance_id());
  }
  if (receiver_) caf::anon_send(receiver_, wake_atom::value);
  return true;
}

void Ledger::serve_partition(int partition, int64_t epoch) {
  auto& owned = options_.owned;
  // Accounts of it still loaded here may be stale: another owner may have moved them. The notice
  // goes before the partition is served: a request admitted once it is served reaches the
  // registry after the notice (it is sent later), so no actor decides on the old balance.
  caf::anon_send(registry_, moved_atom::value, partition, owned->partitions(), true);
  owned->hold(partition, epoch);
}

void Ledger::give_up_partitions(const std::vector<int>& partitions,
                                std::chrono::milliseconds drain) {
  auto& owned = options_.owned;
  if (!owned || partitions.empty()) return;
  for (int partition : partitions) owned->leave(partition);
  const auto until = std::chrono::steady_clock::now() + drain;
  auto busy = [&] {
    int64_t load = 0;
    for (int partition : partitions) load += (*partition_load_)[partition].load();
    return load;
  };
  while (busy() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t left = busy();
  for (int partition : partitions) {
    owned->drop(partition);
    caf::anon_send(registry_, moved_atom::value, partition, owned->partitions(), false);
  }
  spdlog::info("event=partitions_given_up count={} unanswered={} instance={}", partitions.size(),
               left, owned->instance_id());
}

}  // namespace wallet::actors
