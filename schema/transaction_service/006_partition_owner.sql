-- Ownership of accounts by transaction-service instances, fenced where the write lands (SPEC.md
-- section 7, DESIGN.md "Beyond one machine").
--
-- Accounts hash to P partitions: partition = first 32 bits of md5(user_id as lower-case canonical
-- text), big-endian, modulo P (ledger_partition_of; domain/partitioning.hpp computes the same and a
-- test pins both). P is fixed per cluster: it is the number of rows of partition_owner, created once
-- by the first instance that starts (partition_init); an instance configured otherwise refuses to
-- start.
--
-- An instance takes a partition with partition_take, which bumps its epoch and returns the new one.
-- Every ledger commit goes through ledger_commit_batch, which in the same transaction, before
-- ledger_apply_batch writes anything, checks the batch's fence {instance, epochs: [{partition,
-- epoch}]}: every claimed partition must still be owned by that instance at that epoch, and every
-- account the batch touches must lie in a claimed partition. Otherwise nothing is written and the
-- batch fails with WL005 (the writer answers its clients 503 partition_moved). The claim covers all
-- the partitions the instance holds, not only those the batch touches, because a stored business
-- refusal (an idempotency outcome without a ledger row) names no account: an instance that lost
-- any partition without knowing it commits nothing at all.
--
-- Concurrency: the batch locks the rows of the partitions it touches FOR SHARE before it reads
-- their epochs; partition_take updates the row. So a take waits for the batches in flight on that
-- partition to commit, and a batch that starts after a take sees the new epoch and is refused:
-- whatever the timing, every commit of a former owner happens before the new owner's epoch exists.

CREATE TABLE partition_owner (
  partition integer PRIMARY KEY CHECK (partition >= 0),
  owner     text,                       -- instance id; NULL until first taken
  epoch     bigint NOT NULL DEFAULT 0,  -- bumped by every take
  taken_at  timestamptz
);

-- ledger_partition_of, partition_init, partition_take and ledger_commit_batch with its fence
-- (ledger_check_fence) are in functions/, applied after the numbered migrations.
