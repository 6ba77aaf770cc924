#include "test/cluster/cluster_control.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "domain/ids.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {

using namespace std::chrono_literals;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int read_pid(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  in >> pid;
  return pid;
}

std::vector<int> children_of(int pid) {
  std::vector<int> found;
  DIR* dir = opendir("/proc");
  if (!dir) return found;
  while (dirent* entry = readdir(dir)) {
    const int child = std::atoi(entry->d_name);
    if (child <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int parent = 0;
    rest >> state >> parent;
    if (parent == pid) found.push_back(child);
  }
  closedir(dir);
  return found;
}

std::string cmdline_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

void sigkill(int pid) {
  if (pid > 0) ::kill(pid, SIGKILL);
}

bool Cluster::configured() const {
  return !state.empty() && !tx_urls.empty() && !user_urls.empty() && patroni.size() == 2 &&
         nats_monitors.size() == 3;
}

int Cluster::postgres_port(int index) const {
  return std::atoi(env_or("CL_PG_BASE", "15432").c_str()) + index;
}

int Cluster::postmaster_pid(int index) const {
  return read_pid(state + "/pg" + std::to_string(index + 1) + "/data/postmaster.pid");
}

int Cluster::leader() const {
  for (size_t i = 0; i < patroni.size(); ++i) {
    if (HttpClient(patroni[i], 1000ms).get("/primary").status == 200) return static_cast<int>(i);
  }
  return -1;
}

void Cluster::kill_postgres_node(int index) const {
  const std::string node = "pg" + std::to_string(index + 1);
  const int patroni_pid = read_pid(pid_file("patroni" + std::to_string(index + 1)));
  const int postmaster = postmaster_pid(index);
  const auto children = children_of(postmaster);
  sigkill(patroni_pid);
  sigkill(postmaster);
  for (int child : children) sigkill(child);
  std::printf("[cluster] SIGKILL %s: patroni %d, postmaster %d and %zu postgres processes\n",
              node.c_str(), patroni_pid, postmaster, children.size());
}

void Cluster::kill_part(const std::string& name) const {
  const int pid = read_pid(pid_file(name));
  sigkill(pid);
  std::printf("[cluster] SIGKILL %s (pid %d)\n", name.c_str(), pid);
}

bool Cluster::restore() const {
  const std::string command = "WALLET_SKIP_BUILD=1 '" + scripts_dir() + "/cluster' up >&2";
  return std::system(command.c_str()) == 0;
}

RestoreAtEnd::~RestoreAtEnd() {
  EXPECT_TRUE(cluster.restore()) << "scripts/cluster up could not restore it";
}

std::unique_ptr<pqxx::connection> open_db(const std::string& url) {
  for (int attempt = 0;; ++attempt) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const std::exception&) {
      if (attempt > 60) throw;
      std::this_thread::sleep_for(500ms);
    }
  }
}

std::vector<std::string> funded_accounts(pqxx::connection& db, const std::string& url, int count) {
  auto ids = create_accounts(db, count);
  HttpClient client(url, 5000ms);
  for (const auto& id : ids) {
    // Retried with its key, as a client would: right after a restore the service may still be
    // finding the primary (503).
    const auto body = nlohmann::json{{"user_id", id}, {"amount", "500.00"}}.dump();
    const std::string key = domain::new_uuid_v4();
    HttpResponse r;
    for (const auto give_up = Clock::now() + 30s; Clock::now() < give_up;) {
      r = client.post("/addMoney", body, {{"Idempotency-Key", key}});
      if (r.status == 200) break;
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(r.status, 200) << r.body;
  }
  return ids;
}

}  // namespace wallet::test
