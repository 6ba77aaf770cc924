// Metrics: a small Prometheus registry (counters, gauges and histograms with labels) rendered in
// the text exposition format at GET /metrics. Thread-safe; cheap enough for the request path
// (one mutex per family, taken for a map lookup and an increment).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wallet::http {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void count(const std::string& name, const Labels& labels, double by = 1.0);
  void observe(const std::string& name, const Labels& labels, double seconds);
  // Gauges are read when /metrics is rendered, from the function registered here.
  void gauge(const std::string& name, const std::string& help,
             std::function<std::vector<std::pair<Labels, double>>()> read);
  void describe(const std::string& name, const std::string& type, const std::string& help);

  std::string render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<Labels, double> counters;
    std::map<Labels, Histogram> histograms;
    std::function<std::vector<std::pair<Labels, double>>()> read;
  };

  Family& family(const std::string& name, const std::string& type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// Latency buckets in seconds, shared by every histogram.
const std::vector<double>& latency_buckets();

}  // namespace wallet::http
