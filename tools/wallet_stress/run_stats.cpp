// RunStats: merge, percentiles and the latency histogram.
#include "tools/wallet_stress/run_stats.hpp"

#include <algorithm>
#include <cmath>

namespace wallet::stress {

const char* status_class_name(StatusClass c) {
  switch (c) {
    case StatusClass::ok:
      return "2xx";  // 200, and 201 for a hold
    case StatusClass::insufficient_funds:
      return "409";
    case StatusClass::unprocessable:
      return "422";
    case StatusClass::throttled:
      return "429";
    case StatusClass::unavailable:
      return "503";
    case StatusClass::other:
      return "other";
    case StatusClass::transport:
      return "transport_error";
  }
  return "other";
}

StatusClass classify(int status) {
  switch (status) {
    case 0:
      return StatusClass::transport;
    case 200:
    case 201:
      return StatusClass::ok;
    case 409:
      return StatusClass::insufficient_funds;
    case 422:
      return StatusClass::unprocessable;
    case 429:
      return StatusClass::throttled;
    case 503:
      return StatusClass::unavailable;
    default:
      return StatusClass::other;
  }
}

SecondBucket& RunStats::bucket(double seconds_since_start) {
  const auto index = static_cast<size_t>(std::max(0.0, seconds_since_start));
  if (timeline.size() <= index) timeline.resize(index + 1);
  return timeline[index];
}

void RunStats::merge(const RunStats& other) {
  requests += other.requests;
  transfers_sent += other.transfers_sent;
  duplicates_sent += other.duplicates_sent;
  retries += other.retries;
  for (size_t i = 0; i < kStatusClasses; ++i) statuses[i] += other.statuses[i];
  latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
  scheduled_latencies_us.insert(scheduled_latencies_us.end(), other.scheduled_latencies_us.begin(),
                                other.scheduled_latencies_us.end());
  late_sends += other.late_sends;
  if (timeline.size() < other.timeline.size()) timeline.resize(other.timeline.size());
  for (size_t i = 0; i < other.timeline.size(); ++i) {
    timeline[i].requests += other.timeline[i].requests;
    timeline[i].transfers += other.timeline[i].transfers;
    timeline[i].accepted += other.timeline[i].accepted;
  }
  connections_opened += other.connections_opened;
  if (instances.size() < other.instances.size()) instances.resize(other.instances.size());
  for (size_t i = 0; i < other.instances.size(); ++i) {
    instances[i].requests += other.instances[i].requests;
    for (size_t c = 0; c < kStatusClasses; ++c)
      instances[i].statuses[c] += other.instances[i].statuses[c];
  }
}

LatencySummary summarize_latency(std::vector<uint32_t>& latencies_us) {
  LatencySummary summary;
  if (latencies_us.empty()) return summary;
  std::sort(latencies_us.begin(), latencies_us.end());
  // Nearest-rank percentile: the smallest sample with at least p of all samples at or below it.
  auto at = [&](double p) {
    const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(latencies_us.size())));
    return latencies_us[std::min(latencies_us.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
  };
  summary.p50_ms = at(0.50);
  summary.p90_ms = at(0.90);
  summary.p99_ms = at(0.99);
  summary.max_ms = latencies_us.back() / 1000.0;
  double total = 0;
  for (uint32_t v : latencies_us) total += v;
  summary.mean_ms = total / static_cast<double>(latencies_us.size()) / 1000.0;
  return summary;
}

std::vector<HistogramBin> latency_histogram(const std::vector<uint32_t>& latencies_us) {
  constexpr double kFirstUpperUs = 50;
  const double factor = std::pow(2.0, 0.25);
  std::vector<HistogramBin> bins;
  for (double upper = kFirstUpperUs; upper < 120e6; upper *= factor) {
    bins.push_back({upper / 1000.0, 0});
  }
  for (uint32_t v : latencies_us) {
    size_t index = 0;
    if (v > kFirstUpperUs) {
      index = static_cast<size_t>(std::ceil(std::log(v / kFirstUpperUs) / std::log(factor) - 1e-9));
    }
    bins[std::min(index, bins.size() - 1)].count += 1;
  }
  size_t first = 0;
  size_t last = bins.size();
  while (first < last && bins[first].count == 0) ++first;
  while (last > first && bins[last - 1].count == 0) --last;
  return {bins.begin() + static_cast<long>(first), bins.begin() + static_cast<long>(last)};
}

}  // namespace wallet::stress
