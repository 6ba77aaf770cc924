// Progress on stderr: a one-line bar redrawn a few times a second while the load runs, shown only
// when stderr is a terminal and --quiet is off; and note(), the driver's phase messages.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace wallet::stress {

// Written by the load workers, read by the bar.
struct ProgressCounters {
  std::atomic<uint64_t> sends_done{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> retried{0};
};

class ProgressBar {
 public:
  ProgressBar(const ProgressCounters& counters, uint64_t total_sends, bool quiet);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Draws the final state and ends the line; idempotent.
  void stop();

 private:
  void draw(bool final_line);

  const ProgressCounters& counters_;
  uint64_t total_;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// "wallet-stress: <text>" on stderr unless quiet.
void note(bool quiet, const std::string& text);

}  // namespace wallet::stress
