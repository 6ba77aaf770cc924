// How accounts are split between transaction-service instances (SPEC.md section 7): every account
// belongs to one of P partitions, and an instance owns whole partitions. The hash is fixed and
// documented because Postgres computes it too (ledger_partition_of in
// schema/transaction_service/functions/partitions.sql) to fence commits: both must agree, for every
// id, forever, and test/unit/domain/partitioning_test.cpp pins values of both.
#pragma once

#include <cstdint>
#include <string_view>

namespace wallet::domain {

constexpr int kDefaultPartitions = 12;

// partition = (first 4 bytes of md5(user_id), read big-endian as an unsigned 32-bit number) mod
// `partitions`, where user_id is the lower-case canonical text of the uuid (as stored and
// answered; upper-case input is lowered first). `partitions` must be at least 1.
int partition_of(std::string_view user_id, int partitions);

}  // namespace wallet::domain
