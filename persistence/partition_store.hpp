// Ownership of account partitions in Postgres (schema/transaction_service/006_partition_owner.sql):
// creating the partitions, taking one (which bumps its epoch), listing them. OwnedPartitions, the
// epochs this instance holds, is in owned_partitions.hpp.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "persistence/owned_partitions.hpp"

namespace wallet::persistence {

// Creates partitions 0..partitions-1 if there are none yet; returns how many exist (another count
// means the cluster was created with another P). Throws libpqxx exceptions.
int init_partitions(pqxx::connection& conn, int partitions);
// Takes `partition` for `instance_id`; returns its new epoch. Throws libpqxx exceptions.
int64_t take_partition(pqxx::connection& conn, int partition, const std::string& instance_id);
// Every partition, in order. Throws libpqxx exceptions.
std::vector<PartitionOwner> list_partitions(pqxx::connection& conn);

// Single-instance ownership: creates the partitions if needed and takes every one of them (each
// epoch bumped, so any former holder is fenced out). Fails when the database holds another
// partition count than `owned.partitions()`, or cannot be reached. Returns how many it took.
domain::Result<int> take_all_partitions(const std::string& database_url, OwnedPartitions& owned);
// For kafka ownership: creates the partitions if needed and checks their count; takes none.
domain::Result<int> ensure_partitions(const std::string& database_url,
                                      const OwnedPartitions& owned);

}  // namespace wallet::persistence
