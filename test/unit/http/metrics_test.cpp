// Unit tests of http/metrics (the Prometheus registry over prometheus-cpp): the exposition text
// that GET /metrics serves, for counters, histograms and callback gauges, with labels.
#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace wallet::http {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsTest, CountersAddUpPerLabelSet) {
  Metrics metrics;
  metrics.describe("http_requests_total", "counter", "HTTP requests answered");
  const Labels ok{{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}};
  metrics.count("http_requests_total", ok);
  metrics.count("http_requests_total", ok);
  metrics.count("http_requests_total", {{"method", "GET"}, {"route", "/x"}, {"status", "404"}}, 3);
  const auto text = metrics.render();
  EXPECT_TRUE(has_line(text, "# HELP http_requests_total HTTP requests answered")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE http_requests_total counter")) << text;
  EXPECT_TRUE(
      has_line(text, R"(http_requests_total{method="GET",route="/healthz",status="200"} 2)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(http_requests_total{method="GET",route="/x",status="404"} 3)"))
      << text;
}

TEST(MetricsTest, HistogramsHaveCumulativeBucketsSumAndCount) {
  Metrics metrics;
  metrics.describe("ledger_commit_seconds", "histogram", "Group commit latency");
  metrics.observe("ledger_commit_seconds", {}, 0.0007);
  metrics.observe("ledger_commit_seconds", {}, 0.003);
  metrics.observe("ledger_commit_seconds", {}, 7.0);
  const auto text = metrics.render();
  EXPECT_TRUE(has_line(text, "# TYPE ledger_commit_seconds histogram")) << text;
  EXPECT_TRUE(has_line(text, R"(ledger_commit_seconds_bucket{le="0.0005"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(ledger_commit_seconds_bucket{le="0.001"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ledger_commit_seconds_bucket{le="0.005"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ledger_commit_seconds_bucket{le="5"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ledger_commit_seconds_bucket{le="+Inf"} 3)")) << text;
  EXPECT_TRUE(has_line(text, "ledger_commit_seconds_count 3")) << text;
  EXPECT_TRUE(has_line(text, "ledger_commit_seconds_sum 7.0037")) << text;
}

TEST(MetricsTest, GaugesAreReadAtRenderAndCanBeCounters) {
  Metrics metrics;
  double open = 1;
  metrics.gauge("http_connections_open", "Open client connections", [&open] {
    return std::vector<std::pair<Labels, double>>{{{}, open}};
  });
  metrics.describe("ledger_events_published_total", "counter", "Events acknowledged");
  metrics.gauge("ledger_events_published_total", "Events acknowledged", [] {
    return std::vector<std::pair<Labels, double>>{{{}, 42}};
  });
  metrics.gauge("kafka_consumer_lag", "Lag", [] {
    return std::vector<std::pair<Labels, double>>{{{{"topic", "user-created"}}, 5}};
  });
  open = 7;
  const auto text = metrics.render();
  EXPECT_TRUE(has_line(text, "# TYPE http_connections_open gauge")) << text;
  EXPECT_TRUE(has_line(text, "http_connections_open 7")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE ledger_events_published_total counter")) << text;
  EXPECT_TRUE(has_line(text, "ledger_events_published_total 42")) << text;
  EXPECT_TRUE(has_line(text, R"(kafka_consumer_lag{topic="user-created"} 5)")) << text;
  // Families in name order.
  EXPECT_LT(text.find("http_connections_open"), text.find("kafka_consumer_lag"));
  EXPECT_LT(text.find("kafka_consumer_lag"), text.find("ledger_events_published_total"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.count("odd_total", {{"route", "a\"b\\c\nd"}});
  EXPECT_TRUE(has_line(metrics.render(), R"(odd_total{route="a\"b\\c\nd"} 1)")) << metrics.render();
}

TEST(MetricsTest, ConcurrentCountsAreAllKept) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 5000; ++i) {
        metrics.count("c_total", {{"t", std::to_string(t % 2)}});
        metrics.observe("h_seconds", {}, 0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto text = metrics.render();
  EXPECT_TRUE(has_line(text, R"(c_total{t="0"} 10000)")) << text;
  EXPECT_TRUE(has_line(text, R"(c_total{t="1"} 10000)")) << text;
  EXPECT_TRUE(has_line(text, "h_seconds_count 20000")) << text;
}

}  // namespace
}  // namespace wallet::http
