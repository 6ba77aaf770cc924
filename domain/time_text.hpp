// Times as the API writes them: RFC 3339, UTC, with milliseconds. Pure (no clock read here).
#pragma once

#include <cstdint>
#include <string>

namespace wallet::domain {

// Epoch milliseconds as RFC 3339 UTC text with milliseconds ("2030-01-01T00:00:00.000Z").
std::string format_epoch_ms(int64_t ms);
// Epoch microseconds as RFC 3339 UTC text with microseconds, as Postgres timestamps are read
// ("2030-01-01T00:00:00.000000Z").
std::string format_epoch_us(int64_t us);

}  // namespace wallet::domain
