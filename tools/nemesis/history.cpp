// HistoryWriter and the loader of a history file (tools/nemesis/history.hpp).
#include "tools/nemesis/history.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace wallet::nemesis {

int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

HistoryWriter::HistoryWriter(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
  if (!file_) throw std::runtime_error("cannot open history " + path);
}

HistoryWriter::~HistoryWriter() {
  if (file_) std::fclose(file_);
}

void HistoryWriter::write(const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

void HistoryWriter::invoke(const Op& op) {
  write({{"type", "invoke"},
         {"op", op.id},
         {"client", op.client},
         {"f", op.f},
         {"key", op.key},
         {"args", op.args},
         {"t_ns", op.invoke_ns}});
}

void HistoryWriter::complete(const Op& op) {
  write({{"type", op.outcome},
         {"op", op.id},
         {"t_ns", op.complete_ns},
         {"status", op.status},
         {"body", op.body},
         {"attempts", op.attempts},
         {"resolved", op.resolved},
         {"instance", op.instance}});
}

std::vector<Op> load_history(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read history " + path);
  std::map<int64_t, Op> ops;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    // A torn last line (the writer was killed mid-write) is the only malformed line tolerated.
    if (j.is_discarded()) {
      if (in.peek() == EOF) break;
      throw std::runtime_error("history line " + std::to_string(number) + " is not JSON");
    }
    const int64_t id = j.at("op").get<int64_t>();
    Op& op = ops[id];
    const std::string type = j.at("type").get<std::string>();
    if (type == "invoke") {
      op.id = id;
      op.client = j.value("client", 0);
      op.f = j.at("f").get<std::string>();
      op.key = j.value("key", "");
      op.args = j.value("args", nlohmann::json::object());
      op.invoke_ns = j.at("t_ns").get<int64_t>();
      continue;
    }
    // Completions: a definite outcome is never replaced; an info may be (by settle).
    if (op.outcome == "ok" || op.outcome == "fail") continue;
    op.outcome = type;
    op.complete_ns = j.at("t_ns").get<int64_t>();
    op.status = j.value("status", 0);
    op.body = j.value("body", nlohmann::json());
    op.attempts = j.value("attempts", 0);
    op.resolved = j.value("resolved", false);
    op.instance = j.value("instance", "");
  }
  std::vector<Op> out;
  out.reserve(ops.size());
  for (auto& entry : ops) {
    if (!entry.second.f.empty()) out.push_back(std::move(entry.second));
  }
  return out;
}

void save_history(const std::string& path, const std::vector<Op>& ops) {
  std::remove(path.c_str());
  HistoryWriter writer(path);
  for (const Op& op : ops) {
    writer.invoke(op);
    if (!op.outcome.empty()) writer.complete(op);
  }
}

int64_t max_op_id(const std::vector<Op>& ops) {
  int64_t max = 0;
  for (const Op& op : ops) max = std::max(max, op.id);
  return max;
}

}  // namespace wallet::nemesis
