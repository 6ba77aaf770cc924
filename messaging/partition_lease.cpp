// PartitionOwnership's read lease (see the header): an offset commit every session_timeout / 6
// proves the group still counts this member, and the commits' results say whether it still does.
#include <spdlog/spdlog.h>

#include "messaging/partition_ownership_internal.hpp"

namespace wallet::messaging {

using namespace ownership_internal;

void PartitionOwnership::Impl::renew_lease() {
  if (!options.lease_renewed) return;
  const auto now = Clock::now();
  if (now - last_lease_commit < options.session_timeout / 6) return;
  if (lease_commits.size() >= kMaxLeaseCommits) return;
  std::vector<int> held;
  {
    std::lock_guard<std::mutex> lock(mutex);
    held.assign(assigned.begin(), assigned.end());
  }
  if (held.empty()) return;  // nothing held: nothing read from memory
  last_lease_commit = now;
  rd_kafka_topic_partition_list_t* offsets =
      rd_kafka_topic_partition_list_new(static_cast<int>(held.size()));
  for (int p : held) {
    rd_kafka_topic_partition_list_add(offsets, options.topic.c_str(), p)->offset = 0;
  }
  const uintptr_t number = next_lease_commit++;
  // With a queue, the result comes back as an event on it (the callback is not called).
  const auto error = rd_kafka_commit_queue(
      consumer->c_ptr(), offsets, lease_queue,
      [](rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*) {},
      reinterpret_cast<void*>(number));
  rd_kafka_topic_partition_list_destroy(offsets);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) lease_commits.emplace(number, now);
}

void PartitionOwnership::Impl::read_lease_results() {
  while (rd_kafka_event_t* event = rd_kafka_queue_poll(lease_queue, 0)) {
    if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
      const auto number = reinterpret_cast<uintptr_t>(rd_kafka_event_opaque(event));
      auto error = rd_kafka_event_error(event);
      if (const auto* offsets = rd_kafka_event_topic_partition_list(event)) {
        for (int i = 0; i < offsets->cnt && !error; ++i) error = offsets->elems[i].err;
      }
      auto sent = lease_commits.find(number);
      if (sent != lease_commits.end()) {
        if (!error) {
          options.lease_renewed(sent->second + options.session_timeout * 3 / 4);
        } else if (!lease_failing) {
          spdlog::warn("event=ownership_lease_not_renewed instance={} cause=\"{}\"",
                       options.instance_id, rd_kafka_err2str(error));
        }
        if (lease_failing && !error) {
          spdlog::info("event=ownership_lease_renewed instance={}", options.instance_id);
        }
        lease_failing = error != RD_KAFKA_RESP_ERR_NO_ERROR;
        lease_commits.erase(sent);
      }
    }
    rd_kafka_event_destroy(event);
  }
}

}  // namespace wallet::messaging
