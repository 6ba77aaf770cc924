// ProgressBar: redraws "[=====>    ] sends  req/s  200/409/retried" with \r on a terminal.
#include "tools/wallet_stress/progress_bar.hpp"

#include <unistd.h>

#include <cstdio>

namespace wallet::stress {

ProgressBar::ProgressBar(const ProgressCounters& counters, uint64_t total_sends, bool quiet)
    : counters_(counters), total_(total_sends), started_(std::chrono::steady_clock::now()) {
  if (quiet || !isatty(STDERR_FILENO)) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; })) {
      draw(false);
    }
  });
}

ProgressBar::~ProgressBar() { stop(); }

void ProgressBar::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  constexpr int kWidth = 30;
  const uint64_t done = counters_.sends_done.load();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double share = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  char bar[kWidth + 1];
  const int filled = static_cast<int>(share * kWidth);
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[kWidth] = '\0';
  const uint64_t requests = counters_.requests.load();
  std::fprintf(
      stderr,
      "\r[%s] %llu/%llu sends  %.0f req/s  200: %llu  409: %llu  retried: %llu  %.1f s\033[K%s",
      bar, static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
      elapsed > 0 ? static_cast<double>(requests) / elapsed : 0.0,
      static_cast<unsigned long long>(counters_.accepted.load()),
      static_cast<unsigned long long>(counters_.refused.load()),
      static_cast<unsigned long long>(counters_.retried.load()), elapsed, final_line ? "\n" : "");
  std::fflush(stderr);
}

void note(bool quiet, const std::string& text) {
  if (!quiet) std::fprintf(stderr, "wallet-stress: %s\n", text.c_str());
}

}  // namespace wallet::stress
