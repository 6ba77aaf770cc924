// wallet-stress's command line: the options that fill a StressConfig (--help lists them in the
// order add_options adds them) and the checks of what they were given.
#pragma once

#include <string>

#include "tools/wallet_stress/stress_config.hpp"

namespace CLI {
class App;
}

namespace wallet::stress {

// Every option of wallet-stress, bound to its field of `config`.
void add_options(CLI::App& app, StressConfig& config);

// After parsing: the URLs, the amounts, the mix and the combinations of options checked, and the
// fields parsed from their text set; an error text, empty when the run can go ahead.
std::string resolve_options(StressConfig& config);

}  // namespace wallet::stress
