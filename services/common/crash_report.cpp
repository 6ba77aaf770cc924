#include "services/common/crash_report.hpp"

#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

namespace wallet::services {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
int crash_fd = -1;      // the .crash file, opened at start-up (or -1)
char service_name[64];  // copied at start-up: the handler must not touch std::string

void put(int fd, const char* text) {
  if (fd < 0) return;
  const ssize_t written = ::write(fd, text, std::strlen(text));
  (void)written;
}

// Decimal or hex without allocation (snprintf is not async-signal-safe).
const char* format(char* buffer, size_t size, unsigned long long value, int base) {
  char* end = buffer + size - 1;
  *end = '\0';
  char* p = end;
  do {
    *--p = "0123456789abcdef"[value % base];
    value /= base;
  } while (value && p > buffer + 2);
  if (base == 16) {
    *--p = 'x';
    *--p = '0';
  }
  return p;
}

void report(int fd, int signal, const siginfo_t* info, void* const* frames, int depth) {
  char number[32];
  put(fd, "\n=== FATAL: service=");
  put(fd, service_name);
  put(fd, " pid=");
  put(fd, format(number, sizeof number, static_cast<unsigned long long>(::getpid()), 10));
  put(fd, " signal=");
  put(fd, format(number, sizeof number, static_cast<unsigned long long>(signal), 10));
  put(fd, " (");
  put(fd, sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
  put(fd, ") fault_address=");
  put(fd, format(number, sizeof number, reinterpret_cast<uintptr_t>(info ? info->si_addr : 0), 16));
  put(fd, " unix_time=");
  put(fd, format(number, sizeof number, static_cast<unsigned long long>(::time(nullptr)), 10));
  put(fd,
      "\nbacktrace (innermost first; resolve binary(+0xOFFSET) with addr2line -Cfpe binary):\n");
  if (fd >= 0) backtrace_symbols_fd(frames, depth, fd);
  put(fd, "=== end of backtrace\n");
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  void* frames[64];
  const int depth = backtrace(frames, 64);
  report(STDERR_FILENO, signal, info, frames, depth);
  report(crash_fd, signal, info, frames, depth);
  // Die of the same signal, with the default action (a core dump): SA_RESETHAND already restored
  // it; returning re-executes the faulting instruction, raise() covers signals sent by kill.
  ::raise(signal);
}

}  // namespace

void install_crash_handler(const std::string& service) {
  std::strncpy(service_name, service.c_str(), sizeof service_name - 1);
  if (const char* dir = std::getenv("WALLET_CRASH_DIR"); dir && *dir) {
    const std::string path = std::string(dir) + "/" + service + ".crash";
    crash_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (crash_fd < 0) spdlog::warn("event=crash_file_unavailable path={}", path);
  }
  // backtrace() loads libgcc on first use, which allocates: do that now, not in the handler.
  void* warm[4];
  backtrace(warm, 4);
  // Cores are opt-in (they are large, and the kernel's core_pattern decides where they go).
  rlimit core{};
  const char* cores = std::getenv("WALLET_CORE_DUMPS");
  if (cores && std::string(cores) == "1" && ::getrlimit(RLIMIT_CORE, &core) == 0 &&
      core.rlim_cur != core.rlim_max) {
    core.rlim_cur = core.rlim_max;
    ::setrlimit(RLIMIT_CORE, &core);
  }
  // A stack overflow faults on the stack itself: the handler runs on one of its own.
  static char alternate_stack[64 * 1024];
  stack_t stack{};
  stack.ss_sp = alternate_stack;
  stack.ss_size = sizeof alternate_stack;
  ::sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : kFatalSignals) ::sigaction(signal, &action, nullptr);
}

}  // namespace wallet::services
