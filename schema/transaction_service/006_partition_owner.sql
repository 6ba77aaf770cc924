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

CREATE FUNCTION ledger_partition_of(user_id uuid, partitions integer) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ((('x' || substr(md5(user_id::text), 1, 8))::bit(32)::bigint) % partitions)::integer
$$;

-- Creates partitions 0..partitions-1 if there are none yet; returns how many there are (which is
-- not `partitions` when the cluster was created with another count).
CREATE FUNCTION partition_init(partitions integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  existing integer;
BEGIN
  IF partitions < 1 THEN
    RAISE EXCEPTION 'partitions must be at least 1' USING ERRCODE = '22023';
  END IF;
  -- Several instances may start at once: one creates the rows, the others count them.
  PERFORM pg_advisory_xact_lock(hashtext('wallet.partition_init'));
  SELECT count(*) INTO existing FROM partition_owner;
  IF existing = 0 THEN
    INSERT INTO partition_owner (partition) SELECT generate_series(0, partitions - 1);
    RETURN partitions;
  END IF;
  RETURN existing;
END
$$;

-- Takes a partition for an instance: its epoch is bumped and returned. From this commit on, a
-- batch fenced with an older epoch of it is refused.
CREATE FUNCTION partition_take(which integer, instance text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  taken bigint;
BEGIN
  UPDATE partition_owner SET owner = instance, epoch = epoch + 1, taken_at = now()
   WHERE partition = which
  RETURNING epoch INTO taken;
  IF taken IS NULL THEN
    RAISE EXCEPTION 'no partition %', which USING ERRCODE = '22023';
  END IF;
  RETURN taken;
END
$$;

-- The one entry point of ledger commits: the fence, then ledger_apply_batch (001/003), in one
-- statement and so one transaction. A batch without a fence is not checked: it comes from an
-- instance that claims no ownership (PARTITION_OWNERSHIP=shared, today's several-writers mode,
-- kept correct by ledger_apply_batch's conditional updates alone, or a test of the store). An
-- instance that claims ownership always sends its fence, even when it holds nothing.
CREATE FUNCTION ledger_commit_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fence      jsonb := batch -> 'fence';
  partitions integer;
  touched    integer[];
  claimed    integer[];
  current    integer;
BEGIN
  IF fence IS NOT NULL THEN
    SELECT count(*) INTO partitions FROM partition_owner;
    IF partitions = 0 THEN
      RAISE EXCEPTION 'fenced batch but no partitions exist' USING ERRCODE = 'WL005';
    END IF;
    SELECT coalesce(array_agg((c ->> 'partition')::integer), '{}') INTO claimed
      FROM jsonb_array_elements(coalesce(fence -> 'epochs', '[]'::jsonb)) c;
    -- The accounts the batch writes: balances it moves, payers of holds it creates or closes.
    SELECT coalesce(array_agg(DISTINCT ledger_partition_of(t.user_id, partitions)), '{}')
      INTO touched
      FROM (SELECT a.user_id FROM jsonb_to_recordset(batch -> 'accounts') AS a(user_id uuid)
            UNION
            SELECT h.from_user_id
              FROM jsonb_to_recordset(coalesce(batch -> 'holds', '[]'::jsonb))
                     AS h(from_user_id uuid)
            UNION
            SELECT h.from_user_id
              FROM holds h
              JOIN jsonb_to_recordset(coalesce(batch -> 'hold_changes', '[]'::jsonb))
                     AS c(hold_id uuid) USING (hold_id)) t;
    IF NOT touched <@ claimed THEN
      RAISE EXCEPTION 'the batch touches partitions % it does not claim', touched
        USING ERRCODE = 'WL005';
    END IF;
    -- Lock first: a take of these partitions waits for this commit, or this read sees the take.
    PERFORM 1 FROM partition_owner WHERE partition = ANY (touched) ORDER BY partition FOR SHARE;
    SELECT count(*) INTO current
      FROM partition_owner p
      JOIN jsonb_to_recordset(coalesce(fence -> 'epochs', '[]'::jsonb))
             AS c(partition integer, epoch bigint)
        ON p.partition = c.partition
     WHERE p.owner = fence ->> 'instance' AND p.epoch = c.epoch;
    IF current <> cardinality(claimed) THEN
      RAISE EXCEPTION 'partition moved: % of % claimed epochs are current', current,
        cardinality(claimed) USING ERRCODE = 'WL005';
    END IF;
  END IF;
  PERFORM ledger_apply_batch(batch);
END
$$;
