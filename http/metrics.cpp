#include "http/metrics.hpp"

#include <sstream>

namespace wallet::http {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string render_labels(const Labels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape_label(labels[i].second) + '"';
  }
  if (!extra.empty()) out += (labels.empty() ? "" : ",") + extra;
  return out + "}";
}

}  // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
  return buckets;
}

Metrics::Family& Metrics::family(const std::string& name, const std::string& type) {
  auto& f = families_[name];
  if (f.type.empty()) f.type = type;
  return f;
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& f = family(name, type);
  f.help = help;
}

void Metrics::count(const std::string& name, const Labels& labels, double by) {
  std::lock_guard<std::mutex> lock(mutex_);
  family(name, "counter").counters[labels] += by;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& h = family(name, "histogram").histograms[labels];
  const auto& bounds = latency_buckets();
  if (h.buckets.empty()) h.buckets.assign(bounds.size(), 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& f = family(name, "gauge");
  f.help = help;
  f.read = std::move(read);
}

std::string Metrics::render() const {
  std::map<std::string, std::vector<std::pair<Labels, double>>> gauges;
  {
    // Gauge readers may take other locks: call them outside ours.
    std::vector<std::pair<std::string, std::function<std::vector<std::pair<Labels, double>>()>>>
        readers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [name, f] : families_) {
        if (f.read) readers.emplace_back(name, f.read);
      }
    }
    for (auto& [name, read] : readers) gauges[name] = read();
  }
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, value] : f.counters) {
      out << name << render_labels(labels) << ' ' << value << '\n';
    }
    for (const auto& [labels, h] : f.histograms) {
      const auto& bounds = latency_buckets();
      for (size_t i = 0; i < bounds.size(); ++i) {
        std::ostringstream le;
        le << "le=\"" << bounds[i] << '"';
        out << name << "_bucket" << render_labels(labels, le.str()) << ' ' << h.buckets[i] << '\n';
      }
      out << name << "_bucket" << render_labels(labels, "le=\"+Inf\"") << ' ' << h.count << '\n';
      out << name << "_sum" << render_labels(labels) << ' ' << h.sum << '\n';
      out << name << "_count" << render_labels(labels) << ' ' << h.count << '\n';
    }
    auto it = gauges.find(name);
    if (it != gauges.end()) {
      for (const auto& [labels, value] : it->second) {
        out << name << render_labels(labels) << ' ' << value << '\n';
      }
    }
  }
  return out.str();
}

}  // namespace wallet::http
