#include "test/support/service_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "domain/ids.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"

namespace wallet::test {

ServiceProcess::ServiceProcess(std::string binary, std::map<std::string, std::string> env,
                               std::string log_name)
    : binary_(std::move(binary)),
      env_(std::move(env)),
      log_path_(std::string(WALLET_BIN_DIR_DEFAULT) + "/../test-logs/" + log_name + ".log") {}

ServiceProcess::~ServiceProcess() {
  if (running()) kill_now();
}

void ServiceProcess::start() {
  std::string folder = log_path_.substr(0, log_path_.rfind('/'));
  std::string mkdir = "mkdir -p '" + folder + "'";
  if (std::system(mkdir.c_str()) != 0) throw std::runtime_error("cannot create " + folder);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    for (const auto& [name, value] : env_) setenv(name.c_str(), value.c_str(), 1);
    // The test runner may block signals; the service expects a clean mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (open_file_limit_ > 0) {
      const rlimit files{open_file_limit_, open_file_limit_};
      if (setrlimit(RLIMIT_NOFILE, &files) != 0) _exit(126);
    }
    execl(binary_.c_str(), binary_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

bool ServiceProcess::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

bool ServiceProcess::wait_ready(const std::string& base_url, std::chrono::seconds timeout) {
  HttpClient client(base_url, std::chrono::milliseconds(1'000));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    if (client.get("/readyz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void ServiceProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServiceProcess::terminate(std::chrono::seconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_now();
  return -1;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::map<std::string, std::string> private_transaction_service_env(
    int port, const std::string& name, std::map<std::string, std::string> extra) {
  const std::string own = "wallet-test-" + name + "-" + domain::new_uuid_v4().substr(0, 8);
  std::map<std::string, std::string> env{{"HTTP_PORT", std::to_string(port)},
                                         {"DATABASE_URL", transaction_db_url()},
                                         {"KAFKA_BROKERS", kafka_brokers()},
                                         {"KAFKA_TOPIC", own},
                                         {"KAFKA_GROUP_ID", own},
                                         {"NATS_URL", nats_url()},
                                         {"NATS_BALANCE_SUBJECT", own + ".balance.get"},
                                         {"ADMIN_TOKEN", "test"},
                                         // Beside the stack's instance, which owns every
                                         // partition: take none, commit unfenced.
                                         {"PARTITION_OWNERSHIP", "shared"}};
  for (auto& [key, value] : extra) env[key] = std::move(value);
  return env;
}

}  // namespace wallet::test
