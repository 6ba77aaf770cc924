-- ledger_check_fence: the ownership fence (SPEC.md section 7; the partition_owner table and the
-- protocol: migration 006), the one copy ledger_commit_batch and ledger_commit_rows share. Its live
-- and only definition, applied with CREATE OR REPLACE after the numbered migrations at every
-- start-up (persistence/migrations.hpp).
--
-- Guarantees, or WL005 and nothing written: every claimed partition is still owned by `instance`
-- at its epoch, and every payer (an account whose balance the batch moves or whose hold it creates
-- or closes) lies in a claimed partition. The touched partitions' rows are locked FOR SHARE before
-- their epochs are read, so a partition_take waits for the batches in flight on that partition,
-- and a batch that starts after a take sees the new epoch: every commit of a former owner happens
-- before the new owner's epoch exists.
CREATE OR REPLACE FUNCTION ledger_check_fence(instance text, claimed integer[], epochs bigint[],
                                              payers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  partitions integer;
  touched    integer[];
  current    integer;
BEGIN
  SELECT count(*) INTO partitions FROM partition_owner;
  IF partitions = 0 THEN
    RAISE EXCEPTION 'fenced batch but no partitions exist' USING ERRCODE = 'WL005';
  END IF;
  SELECT coalesce(array_agg(DISTINCT ledger_partition_of(p, partitions)), '{}') INTO touched
    FROM unnest(payers) AS p;
  IF NOT touched <@ claimed THEN
    RAISE EXCEPTION 'the batch touches partitions % it does not claim', touched
      USING ERRCODE = 'WL005';
  END IF;
  -- Lock first: a take of these partitions waits for this commit, or this read sees the take.
  PERFORM 1 FROM partition_owner WHERE partition = ANY (touched) ORDER BY partition FOR SHARE;
  SELECT count(*) INTO current
    FROM partition_owner p
    JOIN unnest(claimed, epochs) AS c(partition, epoch) ON p.partition = c.partition
   WHERE p.owner = instance AND p.epoch = c.epoch;
  IF current <> cardinality(claimed) THEN
    RAISE EXCEPTION 'partition moved: % of % claimed epochs are current', current,
      cardinality(claimed) USING ERRCODE = 'WL005';
  END IF;
END
$$;
