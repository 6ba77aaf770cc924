// The history of a nemesis run: every operation a client invoked and how it completed, one JSON
// object per line (JSON Lines), with wall-clock nanoseconds so the nemesis log (written by the
// shell with `date +%s%N`) lines up with it. Written by `run` and `settle`, read by `check`.
//
//   {"type":"invoke","op":7,"client":2,"f":"transfer","key":"...","args":{...},"t_ns":...}
//   {"type":"ok"|"fail"|"info","op":7,"t_ns":...,"status":200,"body":{...},"attempts":2,
//    "resolved":false,"instance":"http://10.77.0.52:8081"}
//
// ok: the service acknowledged it; fail: a definite refusal (nothing changed); info: the outcome
// is unknown (timeouts, 5xx, no answer), left for `settle` to resolve by the operation's key.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wallet::nemesis {

int64_t now_ns();  // CLOCK_REALTIME, as the shell's date +%s%N

struct Op {
  int64_t id = 0;
  int client = 0;
  std::string f;  // deposit withdraw transfer hold capture void post read
  std::string key;
  nlohmann::json args;
  int64_t invoke_ns = 0;
  int64_t complete_ns = 0;  // 0: never completed
  std::string outcome;      // ok fail info, empty: never completed
  int status = 0;
  nlohmann::json body;
  int attempts = 0;
  bool resolved = false;  // its outcome came from settle's replay of its key
  std::string instance;   // the URL that gave the last answer
};

// Appends lines under a mutex and flushes each, so a crash loses at most the line being written.
class HistoryWriter {
 public:
  explicit HistoryWriter(const std::string& path);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  void invoke(const Op& op);
  void complete(const Op& op);

 private:
  void write(const nlohmann::json& line);
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

// Pairs invocations with their completions; a later completion of the same op (settle's
// resolution) replaces an earlier info. Ops in id order.
std::vector<Op> load_history(const std::string& path);
void save_history(const std::string& path, const std::vector<Op>& ops);  // rewrites (plants)

// The largest op id in a history (settle numbers its reads after it).
int64_t max_op_id(const std::vector<Op>& ops);

}  // namespace wallet::nemesis
