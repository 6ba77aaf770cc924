// The HTML report: tables and two SVG charts drawn here, so the file opens anywhere offline.
#include "tools/wallet_stress/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace wallet::stress {
namespace {

constexpr double kWidth = 880, kHeight = 280;
constexpr double kLeft = 60, kRight = 20, kTop = 20, kBottom = 40;

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

// A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above value.
double nice_ceiling(double value) {
  if (value <= 0) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(value)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

void y_axis(std::ostringstream& svg, double top_value, const char* label) {
  const double plot_h = kHeight - kTop - kBottom;
  for (int i = 0; i <= 4; ++i) {
    const double y = kTop + plot_h * (1 - i / 4.0);
    svg << "<line x1='" << kLeft << "' x2='" << kWidth - kRight << "' y1='" << y << "' y2='" << y
        << "' class='grid'/><text x='" << kLeft - 6 << "' y='" << y + 4 << "' class='ly'>"
        << fixed(top_value * i / 4.0, top_value >= 8 ? 0 : 2) << "</text>";
  }
  svg << "<text x='12' y='" << kTop + plot_h / 2 << "' class='axis' transform='rotate(-90 12 "
      << kTop + plot_h / 2 << ")'>" << label << "</text>";
}

std::string throughput_svg(const RunStats& stats) {
  std::ostringstream svg;
  const auto& t = stats.timeline;
  double peak = 1;
  for (const auto& b : t) peak = std::max(peak, static_cast<double>(b.requests));
  const double top = nice_ceiling(peak);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const double step = t.size() > 1 ? plot_w / static_cast<double>(t.size() - 1) : plot_w;
  svg << "<svg viewBox='0 0 " << kWidth << ' ' << kHeight << "' role='img'>";
  y_axis(svg, top, "per second");
  auto line = [&](auto value, const char* css) {
    svg << "<polyline class='" << css << "' points='";
    for (size_t i = 0; i < t.size(); ++i) {
      svg << kLeft + step * static_cast<double>(i) << ','
          << kTop + plot_h * (1 - static_cast<double>(value(t[i])) / top) << ' ';
    }
    svg << "'/>";
    // Markers keep a short run (one or a few seconds) readable.
    if (t.size() > 60) return;
    for (size_t i = 0; i < t.size(); ++i) {
      svg << "<circle class='" << css << "' r='3' cx='" << kLeft + step * static_cast<double>(i)
          << "' cy='" << kTop + plot_h * (1 - static_cast<double>(value(t[i])) / top) << "'/>";
    }
  };
  line([](const SecondBucket& b) { return b.requests; }, "requests");
  line([](const SecondBucket& b) { return b.transfers; }, "transfers");
  line([](const SecondBucket& b) { return b.accepted; }, "accepted");
  const size_t every = std::max<size_t>(1, t.size() / 10);
  for (size_t i = 0; i < t.size(); i += every) {
    svg << "<text x='" << kLeft + step * static_cast<double>(i) << "' y='" << kHeight - kBottom + 16
        << "' class='lx'>" << i << "</text>";
  }
  svg << "<text x='" << kLeft + plot_w / 2 << "' y='" << kHeight - 6
      << "' class='axis'>second of the run (a last partial second reads low)</text></svg>";
  return svg.str();
}

std::string histogram_svg(const std::vector<HistogramBin>& bins) {
  std::ostringstream svg;
  double peak = 1;
  for (const auto& b : bins) peak = std::max(peak, static_cast<double>(b.count));
  const double top = nice_ceiling(peak);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const double width = bins.empty() ? plot_w : plot_w / static_cast<double>(bins.size());
  svg << "<svg viewBox='0 0 " << kWidth << ' ' << kHeight << "' role='img'>";
  y_axis(svg, top, "requests");
  for (size_t i = 0; i < bins.size(); ++i) {
    const double h = plot_h * static_cast<double>(bins[i].count) / top;
    const double x = kLeft + width * static_cast<double>(i);
    svg << "<rect class='bar' x='" << x + 1 << "' y='" << kTop + plot_h - h << "' width='"
        << std::max(1.0, width - 2) << "' height='" << h
        << "'><title>&lt;= " << fixed(bins[i].upper_ms, 3) << " ms: " << bins[i].count
        << "</title></rect>";
    if (i % 4 == 0) {
      svg << "<text x='" << x + width << "' y='" << kHeight - kBottom + 16 << "' class='lx'>"
          << fixed(bins[i].upper_ms, bins[i].upper_ms < 10 ? 2 : 0) << "</text>";
    }
  }
  svg << "<text x='" << kLeft + plot_w / 2 << "' y='" << kHeight - 6
      << "' class='axis'>latency, ms (log scale; bin upper bounds)</text></svg>";
  return svg.str();
}

void row(std::ostringstream& html, const std::string& name, const std::string& value) {
  html << "<tr><th>" << escape(name) << "</th><td>" << escape(value) << "</td></tr>";
}

// --postings: per kind of transaction what was planned, sent, answered 201 and refused.
void postings_rows(std::ostringstream& html, const nlohmann::json& p) {
  row(html, "postings", postings_kinds_line(p));
  html << "</table><h2>Transactions of many postings</h2><table><tr><th>kind</th><th>planned</th>"
       << "<th>sent</th><th>201</th><th>refused</th><th>sends retried</th></tr>";
  for (const auto& [name, k] : p["kinds"].items()) {
    std::string refused;
    for (const auto& [code, n] : k["refused"].items()) {
      refused += (refused.empty() ? "" : ", ") + code + " " + std::to_string(n.get<uint64_t>());
    }
    html << "<tr><td>" << escape(name) << "</td><td>" << k["planned"].get<uint64_t>() << "</td><td>"
         << k["sent"].get<uint64_t>() << "</td><td>" << k["accepted"].get<uint64_t>() << "</td><td>"
         << escape(refused) << "</td><td>" << k["retried"].get<uint64_t>() << "</td></tr>";
  }
  const auto& v = p["reversals"];
  html << "<tr><td>reversals</td><td colspan='5'>" << v["whole"].get<uint64_t>() << " whole, "
       << v["partial"].get<uint64_t>() << " partial, " << v["racing"].get<uint64_t>()
       << " racing in " << v["racing_groups"].get<uint64_t>() << " groups ("
       << v["racing_winners"].get<uint64_t>() << " answered 201)</td></tr>";
}

// The document up to its first section: the styles, the verdict and the run's error if any.
void page_head(std::ostringstream& html, const StressReport& r) {
  const bool ok = r.all_passed();
  html << "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>wallet-stress "
       << escape(r.run_id) << "</title><style>"
       << "body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:960px;color:#222}"
       << "table{border-collapse:collapse;margin:8px 0 20px}th,td{padding:3px 10px;text-align:left;"
       << "border-bottom:1px solid #ddd;vertical-align:top}th{font-weight:600}"
       << ".pass{color:#1a7f37;font-weight:700}.fail{color:#c62828;font-weight:700}"
       << "svg{width:100%;height:auto;background:#fafafa;border:1px solid #e5e5e5}"
       << ".grid{stroke:#e0e0e0}.ly{font-size:11px;text-anchor:end;fill:#555}"
       << ".lx{font-size:11px;text-anchor:middle;fill:#555}.axis{font-size:12px;text-anchor:middle;"
       << "fill:#333}polyline{fill:none;stroke-width:2}circle{fill:#fff;stroke-width:2}"
       << ".requests{stroke:#1565c0}"
       << ".transfers{stroke:#ef6c00}.accepted{stroke:#2e7d32}.bar{fill:#5c6bc0}"
       << ".key span{display:inline-block;width:14px;height:4px;margin:0 4px 3px 12px}"
       << "code{font-size:12px}</style></head><body>";
  html << "<h1>wallet-stress run <code>" << escape(r.run_id) << "</code>: <span class='"
       << (ok ? "pass'>PASS" : "fail'>FAIL") << "</span></h1>";
  if (!r.error.empty()) html << "<p class='fail'>" << escape(r.error) << "</p>";
}

// What was sent, how it was answered and how fast; with --postings, per kind of transaction.
void figures_section(std::ostringstream& html, const StressReport& r) {
  const std::string unit = r.postings.is_null() ? "transfers" : "transactions";
  html << "<h2>Figures</h2><table>";
  row(html, "users", std::to_string(r.user_ids.size()));
  row(html, "concurrency", std::to_string(r.config.concurrency));
  row(html, "load phase",
      fixed(r.elapsed_seconds, 2) + " s" + (r.stopped_early ? " (stopped early)" : ""));
  row(html, "requests",
      std::to_string(r.stats.requests) + " = " + std::to_string(r.stats.transfers_sent) + " " +
          unit + " + " + std::to_string(r.stats.duplicates_sent) + " duplicates + " +
          std::to_string(r.stats.retries) + " retries");
  row(html, "outcomes",
      std::to_string(r.outcomes.accepted) + (r.postings.is_null() ? " accepted, " : " 201, ") +
          std::to_string(r.outcomes.refused) +
          (r.postings.is_null() ? " refused (insufficient funds), " : " refused 409, ") +
          std::to_string(r.outcomes.other) + " other, " + std::to_string(r.outcomes.unresolved) +
          " unresolved");
  row(html, "throughput",
      fixed(r.requests_per_second(), 1) + " req/s, " + fixed(r.transfers_per_second(), 1) + " " +
          unit + "/s");
  row(html, "latency",
      "p50 " + fixed(r.latency.p50_ms, 2) + " ms, p90 " + fixed(r.latency.p90_ms, 2) + " ms, p99 " +
          fixed(r.latency.p99_ms, 2) + " ms, max " + fixed(r.latency.max_ms, 2) + " ms");
  if (r.config.rate > 0) {
    const auto& l = r.scheduled_latency;
    row(html, "paced",
        fixed(r.config.rate, 1) + " sends/s, " + std::to_string(r.stats.late_sends) +
            " sent late; latency from the schedule p50 " + fixed(l.p50_ms, 2) + " ms, p99 " +
            fixed(l.p99_ms, 2) + " ms, max " + fixed(l.max_ms, 2) + " ms");
  }
  if (!r.postings.is_null()) postings_rows(html, r.postings);
  html << "</table>";
}

// Every request by status class; with several instances, a row for each.
void status_section(std::ostringstream& html, const StressReport& r) {
  html << "<h2>Status breakdown (every request)</h2><table><tr>";
  const auto& urls = r.config.transaction_services;
  if (urls.size() > 1) html << "<th>instance</th><th>requests</th>";
  for (size_t i = 0; i < kStatusClasses; ++i) {
    html << "<th>" << status_class_name(static_cast<StatusClass>(i)) << "</th>";
  }
  html << "</tr><tr>";
  if (urls.size() > 1) html << "<td>all</td><td>" << r.stats.requests << "</td>";
  for (size_t i = 0; i < kStatusClasses; ++i) html << "<td>" << r.stats.statuses[i] << "</td>";
  // Several instances: one row each (every request of the load, retries included).
  for (size_t u = 0; urls.size() > 1 && u < urls.size(); ++u) {
    const InstanceStats none;
    const auto& in = u < r.stats.instances.size() ? r.stats.instances[u] : none;
    html << "</tr><tr><td>" << escape(urls[u]) << "</td><td>" << in.requests << "</td>";
    for (size_t i = 0; i < kStatusClasses; ++i) html << "<td>" << in.statuses[i] << "</td>";
  }
  html << "</tr></table>";
}

// One PASS/FAIL row per invariant, with its details and note.
void invariants_section(std::ostringstream& html, const StressReport& r) {
  html << "<h2>Invariants</h2><table>";
  for (const auto& i : r.invariants) {
    html << "<tr><td class='" << (i.passed ? "pass'>PASS" : "fail'>FAIL") << "</td><td>"
         << escape(i.name);
    for (const auto& d : i.details) html << "<br><code>" << escape(d) << "</code>";
    if (!i.note.empty()) html << "<br><em>" << escape(i.note) << "</em>";
    html << "</td></tr>";
  }
  html << "</table>";
}

}  // namespace

std::string render_html(const StressReport& r) {
  std::ostringstream html;
  page_head(html, r);
  figures_section(html, r);
  status_section(html, r);
  invariants_section(html, r);
  html << "<h2>Throughput over time</h2><p class='key'>"
       << "<span class='requests' style='background:#1565c0'></span>requests/s"
       << "<span style='background:#ef6c00'></span>transfers answered/s"
       << "<span style='background:#2e7d32'></span>accepted transfers/s</p>"
       << throughput_svg(r.stats) << "<h2>Latency histogram</h2>" << histogram_svg(r.histogram)
       << "<h2>Configuration</h2><pre>" << escape(to_json(r.config).dump(2))
       << "</pre></body></html>\n";
  return html.str();
}

std::string write_html(const std::string& path, const StressReport& report) {
  std::ofstream file(path);
  if (!file) return "cannot write " + path;
  file << render_html(report);
  return file ? "" : "writing " + path + " failed";
}

}  // namespace wallet::stress
