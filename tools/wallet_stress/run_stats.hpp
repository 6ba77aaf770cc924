// RunStats: the figures of the load phase (requests, status classes, latencies, per-second
// timeline), kept per worker thread without locks and merged at the end; plus the summaries the
// report prints (percentiles, a log-scale latency histogram).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace wallet::stress {

enum class StatusClass {
  ok,
  insufficient_funds,
  unprocessable,
  throttled,
  unavailable,
  other,
  transport
};
constexpr size_t kStatusClasses = 7;
constexpr uint32_t kLateSendUs = 1'000;        // a paced send leaving later than this is late
const char* status_class_name(StatusClass c);  // "200", "409", ..., "other", "transport_error"
StatusClass classify(int status);

struct SecondBucket {
  uint64_t requests = 0;
  uint64_t transfers = 0;  // originals that got a definitive answer in that second
  uint64_t accepted = 0;   // first executions answered 200 (not replays)
};

// Requests of one transaction-service instance (indexed like StressConfig::transaction_services).
struct InstanceStats {
  uint64_t requests = 0;
  std::array<uint64_t, kStatusClasses> statuses{};
};

struct RunStats {
  uint64_t requests = 0;
  uint64_t transfers_sent = 0;   // distinct keys sent (originals)
  uint64_t duplicates_sent = 0;  // copies sent with a key already used
  uint64_t retries = 0;          // re-sends after 429/503/no answer, same key
  std::array<uint64_t, kStatusClasses> statuses{};
  std::vector<uint32_t> latencies_us;
  // Paced runs (--rate) only: per scheduled send, from the instant the schedule gave it to its
  // definitive answer (or to giving up), so that a send held back by a busy worker counts the
  // wait too; and the sends that left more than kLateSendUs after their instant.
  std::vector<uint32_t> scheduled_latencies_us;
  uint64_t late_sends = 0;
  std::vector<SecondBucket> timeline;
  long connections_opened = 0;

  std::vector<InstanceStats> instances;  // requests (load and resolution) per instance

  void count_status(int status) { ++statuses[static_cast<size_t>(classify(status))]; }
  void count_instance(size_t instance, int status) {
    if (instances.size() <= instance) instances.resize(instance + 1);
    ++instances[instance].requests;
    ++instances[instance].statuses[static_cast<size_t>(classify(status))];
  }
  SecondBucket& bucket(double seconds_since_start);
  void merge(const RunStats& other);
};

struct LatencySummary {
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};
// Sorts the samples in place.
LatencySummary summarize_latency(std::vector<uint32_t>& latencies_us);

struct HistogramBin {
  double upper_ms = 0;  // the bin holds samples <= upper_ms (and > the previous bin's bound)
  uint64_t count = 0;
};
// Bins growing by a factor of 2^(1/4) from 50 us; empty bins at either end are dropped.
std::vector<HistogramBin> latency_histogram(const std::vector<uint32_t>& latencies_us);

}  // namespace wallet::stress
