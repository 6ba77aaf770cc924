#include "http/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>

namespace wallet::http {
namespace {

prometheus::Labels label_map(const Labels& labels) {
  return prometheus::Labels(labels.begin(), labels.end());
}

}  // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
  return buckets;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

Metrics::~Metrics() = default;

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mutex_);
  described_[name] = {type, help};
  if (auto it = callbacks_.find(name); it != callbacks_.end()) {
    it->second.help = help;
    it->second.counter = type == "counter";
  }
}

prometheus::Family<prometheus::Counter>& Metrics::counter_family(const std::string& name) {
  auto& family = counter_families_[name];
  if (!family) {
    family =
        &prometheus::BuildCounter().Name(name).Help(described_[name].second).Register(*registry_);
  }
  return *family;
}

prometheus::Family<prometheus::Histogram>& Metrics::histogram_family(const std::string& name) {
  auto& family = histogram_families_[name];
  if (!family) {
    family =
        &prometheus::BuildHistogram().Name(name).Help(described_[name].second).Register(*registry_);
  }
  return *family;
}

void Metrics::count(const std::string& name, const Labels& labels, double by) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& counter = counters_[{name, labels}];
  if (!counter) counter = &counter_family(name).Add(label_map(labels));
  counter->Increment(by);
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  prometheus::Histogram* histogram;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& cached = histograms_[{name, labels}];
    if (!cached) {
      cached = &histogram_family(name).Add(
          label_map(labels), prometheus::Histogram::BucketBoundaries(latency_buckets().begin(),
                                                                     latency_buckets().end()));
    }
    histogram = cached;
  }
  histogram->Observe(seconds);  // the histogram's own lock
}

void Metrics::gauge(const std::string& name, const std::string& help, Read read) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& callback = callbacks_[name];
  callback.help = help;
  callback.counter = described_.count(name) && described_[name].first == "counter";
  callback.read = std::move(read);
}

std::string Metrics::render() const {
  std::vector<std::pair<std::string, Callback>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    callbacks.assign(callbacks_.begin(), callbacks_.end());
  }
  auto families = registry_->Collect();
  // Gauge readers may take other locks: they run outside ours.
  for (const auto& [name, callback] : callbacks) {
    prometheus::MetricFamily family;
    family.name = name;
    family.help = callback.help;
    family.type =
        callback.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    for (const auto& [labels, value] : callback.read()) {
      prometheus::ClientMetric metric;
      for (const auto& [label, text] : labels) metric.label.push_back({label, text});
      (callback.counter ? metric.counter.value : metric.gauge.value) = value;
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  std::stable_sort(families.begin(), families.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace wallet::http
