// Metrics: the services' Prometheus registry, over prometheus-cpp (Debian prometheus-cpp-dev
// 1.0.1): its counters and histograms (with labels) in a prometheus::Registry, plus gauges read
// from callbacks when GET /metrics is served, all rendered by prometheus::TextSerializer. Our own
// HTTP server serves the text (prometheus-cpp-pull's civetweb Exposer is not used). Thread-safe;
// cheap enough for the request path: after the first use of a name and label set, a map lookup
// under one mutex, then the library's atomic add (counter) or its histogram's own lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace wallet::http {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();
  ~Metrics();

  void count(const std::string& name, const Labels& labels, double by = 1.0);
  void observe(const std::string& name, const Labels& labels, double seconds);
  // Gauges are read when /metrics is rendered, from the function registered here. A name that
  // was describe()d as a "counter" first is exposed as a counter (a monotonic figure kept
  // elsewhere, e.g. a bridge's published count).
  void gauge(const std::string& name, const std::string& help,
             std::function<std::vector<std::pair<Labels, double>>()> read);
  // Sets the HELP text (and the type) of a name. prometheus-cpp fixes a family's help when it is
  // created, so describe a counter or histogram before its first count()/observe().
  void describe(const std::string& name, const std::string& type, const std::string& help);

  // The text exposition format (version 0.0.4), families sorted by name.
  std::string render() const;

 private:
  using Read = std::function<std::vector<std::pair<Labels, double>>()>;
  struct Callback {
    std::string help;
    bool counter = false;
    Read read;
  };
  prometheus::Family<prometheus::Counter>& counter_family(const std::string& name);
  prometheus::Family<prometheus::Histogram>& histogram_family(const std::string& name);

  mutable std::mutex mutex_;  // guards everything below (the registry locks itself)
  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, std::pair<std::string, std::string>> described_;  // name -> type, help
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counter_families_;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histogram_families_;
  // prometheus::Family::Add builds a metric before it looks for an existing one: cache each
  // (name, labels) metric so that the request path allocates nothing after the first use.
  std::map<std::pair<std::string, Labels>, prometheus::Counter*> counters_;
  std::map<std::pair<std::string, Labels>, prometheus::Histogram*> histograms_;
  std::map<std::string, Callback> callbacks_;
};

// Latency buckets in seconds, shared by every histogram.
const std::vector<double>& latency_buckets();

}  // namespace wallet::http
