// The --html report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched)
// with the run's figures, status breakdown, invariants, throughput per second and a latency
// histogram.
#pragma once

#include <string>

#include "tools/wallet_stress/stress_report.hpp"

namespace wallet::stress {

std::string render_html(const StressReport& report);
// Returns an error text, empty on success.
std::string write_html(const std::string& path, const StressReport& report);

}  // namespace wallet::stress
