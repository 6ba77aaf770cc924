-- What Postgres spends per transfer in the service's path (issue 14).
--
-- 1. The batch as typed arrays. A group commit of deposits, transfers and withdrawals (the batches
--    the ledger writer sends almost always) goes through ledger_commit_rows: one parameter per
--    column, each a typed array the server parses with the column type's own input function, and
--    unnest() turns them back into rows. Batches that create or close holds or carry a leg of a
--    cross-owner transfer still go through ledger_commit_batch(jsonb) (007), which is unchanged in
--    what it checks and writes. Both share the fence (ledger_check_fence below, the one copy of it).
--    Measured (issue 14): Postgres executes a batch in the same time either way, its cost is the
--    per-row work; the service no longer builds a JSON tree per commit.
--
-- 2. One index less per ledger row: transactions.seq had a unique index of its own (001), which no
--    query uses (history reads (user_id, seq) through transactions_user_seq) and which an identity
--    column does not need for uniqueness (GENERATED ALWAYS: no client supplies it).

ALTER TABLE transactions DROP CONSTRAINT transactions_seq_key;

-- The ownership fence of 006 (see there): every claimed partition still owned by `instance` at its
-- epoch, every payer (an account whose balance the batch moves or whose hold it creates or closes)
-- in a claimed partition, the touched partitions' rows locked FOR SHARE before their epochs are
-- read. WL005 otherwise.
CREATE FUNCTION ledger_check_fence(instance text, claimed integer[], epochs bigint[],
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

-- 007's ledger_commit_batch with its fence moved into ledger_check_fence; otherwise the same.
CREATE OR REPLACE FUNCTION ledger_commit_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fence   jsonb := batch -> 'fence';
  leaving jsonb := batch -> 'departures';
  landing jsonb := batch -> 'arrivals';
  claimed integer[];
  epochs  bigint[];
  payers  uuid[];
  matched integer;
BEGIN
  IF fence IS NOT NULL THEN
    SELECT coalesce(array_agg(c.partition), '{}'), coalesce(array_agg(c.epoch), '{}')
      INTO claimed, epochs
      FROM jsonb_to_recordset(coalesce(fence -> 'epochs', '[]'::jsonb))
             AS c(partition integer, epoch bigint);
    -- The accounts the batch writes: balances it moves, payers of holds it creates or closes.
    SELECT coalesce(array_agg(t.user_id), '{}') INTO payers
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
    PERFORM ledger_check_fence(fence ->> 'instance', claimed, epochs, payers);
  END IF;
  IF leaving IS NOT NULL THEN
    INSERT INTO transfers_in_transit (transfer_id, from_user_id, to_user_id, amount, to_partition)
    SELECT d.transfer_id, d.from_user_id, d.to_user_id, d.amount, d.to_partition
      FROM jsonb_to_recordset(leaving)
             AS d(transfer_id uuid, from_user_id uuid, to_user_id uuid, amount numeric,
                  to_partition integer);
  END IF;
  PERFORM ledger_apply_batch(batch);
  IF landing IS NOT NULL THEN
    DELETE FROM transfers_in_transit m
     USING jsonb_to_recordset(landing) AS a(transfer_id uuid, to_user_id uuid, amount numeric)
     WHERE m.transfer_id = a.transfer_id AND m.to_user_id = a.to_user_id
       AND m.amount = a.amount;
    GET DIAGNOSTICS matched = ROW_COUNT;
    IF matched <> jsonb_array_length(landing) THEN
      RAISE EXCEPTION 'credit not in transit: % of % arrivals matched', matched,
        jsonb_array_length(landing) USING ERRCODE = 'WL006';
    END IF;
  END IF;
END
$$;

-- A batch of balance movements only (no hold created or closed, nothing in transit), as columns:
--   fence:    instance ('' = no fence, as a jsonb batch without "fence"), claimed partitions and
--             their epochs, index-aligned;
--   accounts: per touched account the balance the batch starts from and ends at, index-aligned,
--             ordered by user_id (the row-lock order);
--   entries:  the ledger rows in the order the account actors applied them (transfer_id NULL for
--             deposits and withdrawals);
--   outcomes: the idempotency outcomes stored with them.
-- Checks and writes exactly what ledger_commit_batch does for such a batch: the fence (WL005), the
-- conditional balance update (WL001), the rows, the outcomes, and pending holds <= balance on
-- every account the batch debited (WL004; its holds are untouched by the batch).
CREATE FUNCTION ledger_commit_rows(
    fence_instance text, fence_partitions integer[], fence_epochs bigint[],
    account_ids uuid[], old_balances numeric[], new_balances numeric[],
    entry_ids uuid[], entry_users uuid[], entry_changes numeric[], entry_old numeric[],
    entry_new numeric[], entry_kinds text[], entry_transfers uuid[],
    outcome_endpoints text[], outcome_keys text[], outcome_hashes text[],
    outcome_statuses integer[], outcome_bodies text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  updated integer;
BEGIN
  IF fence_instance <> '' THEN
    PERFORM ledger_check_fence(fence_instance, fence_partitions, fence_epochs, account_ids);
  END IF;

  UPDATE users u
     SET balance = a.new_balance
    FROM unnest(account_ids, old_balances, new_balances) AS a(user_id, old_balance, new_balance)
   WHERE u.user_id = a.user_id AND u.balance = a.old_balance;
  GET DIAGNOSTICS updated = ROW_COUNT;
  IF updated <> cardinality(account_ids) THEN
    RAISE EXCEPTION 'stale balance: % of % accounts matched', updated, cardinality(account_ids)
      USING ERRCODE = 'WL001';
  END IF;

  INSERT INTO transactions (id, user_id, balance_change, old_balance, new_balance, kind, transfer_id)
  SELECT e.id, e.user_id, e.change, e.old_balance, e.new_balance, e.kind, e.transfer_id
    FROM unnest(entry_ids, entry_users, entry_changes, entry_old, entry_new, entry_kinds,
                entry_transfers) WITH ORDINALITY
           AS e(id, user_id, change, old_balance, new_balance, kind, transfer_id, ord)
   ORDER BY e.ord;

  INSERT INTO idempotency_keys (endpoint, key, request_hash, status_code, response_body)
  SELECT * FROM unnest(outcome_endpoints, outcome_keys, outcome_hashes, outcome_statuses,
                       outcome_bodies);

  IF EXISTS (
      SELECT 1
        FROM unnest(account_ids, old_balances, new_balances) AS a(user_id, old_balance, new_balance)
       WHERE a.new_balance < a.old_balance
         AND a.new_balance < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                               WHERE p.from_user_id = a.user_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance' USING ERRCODE = 'WL004';
  END IF;
END
$$;
