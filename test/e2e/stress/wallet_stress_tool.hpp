// Runs build/bin/wallet-stress as an operator runs it, for the e2e tests of test/e2e/stress: with
// the given arguments plus --json, --html and --quiet into a fresh folder, and the stack's URLs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test/support/environment.hpp"

extern char** environ;

namespace wallet::test::stress_tool {

inline std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  nlohmann::json result;
  std::string folder;
};

// The run's folder (output, JSON, HTML) is kept when the test failed, for a look afterwards.
inline void remove_folder_unless_failed(const ToolRun& run) {
  std::error_code ignored;
  if (!run.folder.empty() && !::testing::Test::HasFailure()) {
    std::filesystem::remove_all(run.folder, ignored);
  }
}

// Runs build/bin/wallet-stress with `args` plus --json/--html into a fresh folder.
inline ToolRun run_wallet_stress(std::vector<std::string> args) {
  ToolRun run;
  char folder[] = "/tmp/wallet-stress-test-XXXXXX";
  if (!mkdtemp(folder)) return run;
  run.folder = folder;
  const std::string log = run.folder + "/output.log";
  args.insert(args.begin(), bin_dir() + "/wallet-stress");
  for (const std::string& extra : {std::string("--json=") + run.folder + "/result.json",
                                   std::string("--html=") + run.folder + "/report.html",
                                   std::string("--quiet"), "--user-service=" + user_service_url(),
                                   "--transaction-service=" + transaction_service_url(),
                                   "--database-url=" + transaction_db_url()}) {
    args.push_back(extra);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    run.output = std::string("cannot start ") + argv[0] + ": " + std::strerror(spawned);
    return run;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = read_text(log);
  run.result = nlohmann::json::parse(read_text(run.folder + "/result.json"), nullptr, false);
  return run;
}

}  // namespace wallet::test::stress_tool
