// Private to the Ledger's files (actors/ledger*.cpp): the answers more than one of them gives.
// Nothing outside the Ledger includes it.
#pragma once

#include "actors/ledger_messages.hpp"

namespace wallet::actors::ledger_internal {

// Money work for an account whose partition this instance does not serve (admit, holds).
Reply partition_moved_reply();

}  // namespace wallet::actors::ledger_internal
