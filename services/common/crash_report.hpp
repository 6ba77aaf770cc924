// Crash evidence: on a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) the service writes
// which signal, at what address, and a backtrace to stderr (the service's log) and to
// $WALLET_CRASH_DIR/<service>.crash, then re-raises the signal so the process still dies of it
// (and, with WALLET_CORE_DUMPS=1, which raises the soft core limit to the hard one, leaves a core
// where the kernel's core_pattern says). The handler only calls async-signal-safe functions on
// descriptors opened at start-up.
#pragma once

#include <string>

namespace wallet::services {

void install_crash_handler(const std::string& service);

}  // namespace wallet::services
