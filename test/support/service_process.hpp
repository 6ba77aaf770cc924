// ServiceProcess: runs one of our service binaries as a child process for tests that must kill and
// restart it (SIGKILL mid-run, SIGTERM under load). The child inherits the environment plus the
// given variables; its output goes to a log file named after it under the build folder.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>

namespace wallet::test {

class ServiceProcess {
 public:
  ServiceProcess(std::string binary, std::map<std::string, std::string> env, std::string log_name);
  ~ServiceProcess();  // SIGKILLs a child still running

  // The child's open-file limit (soft and hard), as a shell's `ulimit -n` would set it; before
  // start(). Unset, the child inherits the test's.
  void limit_open_files(unsigned long limit) { open_file_limit_ = limit; }
  void start();
  // Polls GET <url>/readyz until 200; false on timeout or when the child exited.
  bool wait_ready(const std::string& base_url, std::chrono::seconds timeout);
  void kill_now();                            // SIGKILL and reap
  int terminate(std::chrono::seconds grace);  // SIGTERM, wait; returns the exit status
  bool running() const;
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::string binary_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  unsigned long open_file_limit_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// The environment of a transaction-service of a test's own, beside the stack's: same database and
// brokers, but its own port, a Kafka topic and group of its own (it never takes partitions from the
// stack's instance) and a NATS subject of its own (it never answers the stack's balance requests);
// PARTITION_OWNERSHIP=shared, so it takes no ledger partition from the stack's instance either.
// `extra` adds or overrides variables.
std::map<std::string, std::string> private_transaction_service_env(
    int port, const std::string& name, std::map<std::string, std::string> extra = {});

}  // namespace wallet::test
