-- Partition ownership (SPEC.md section 7; the partition_owner table and the protocol: migration
-- 006): the hash of an account to its partition, creating the partitions, taking one. Their live
-- and only definitions, applied with CREATE OR REPLACE after the numbered migrations at every
-- start-up (persistence/migrations.hpp).
--
-- ledger_partition_of: partition = first 32 bits of md5(user_id as lower-case canonical text),
-- big-endian, modulo P. domain/partitioning.hpp computes the same and a test pins both: changing
-- this moves accounts between owners.
CREATE OR REPLACE FUNCTION ledger_partition_of(user_id uuid, partitions integer) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ((('x' || substr(md5(user_id::text), 1, 8))::bit(32)::bigint) % partitions)::integer
$$;

-- Creates partitions 0..partitions-1 if there are none yet; returns how many there are (which is
-- not `partitions` when the cluster was created with another count).
CREATE OR REPLACE FUNCTION partition_init(partitions integer) RETURNS integer
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
CREATE OR REPLACE FUNCTION partition_take(which integer, instance text) RETURNS bigint
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
