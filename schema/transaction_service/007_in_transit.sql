-- Transfers across owners (SPEC.md section 7). When the payer's and the payee's accounts belong to
-- different instances, a transfer settles in two commits linked by its transfer_id: the payer's
-- owner commits the debit row together with a row here (the money is "in transit"), and the
-- payee's owner later commits the credit row and deletes this row in one transaction. So at every
-- moment: sum(users.balance) + sum(transfers_in_transit.amount) = deposits - withdrawals.
--
-- Exactly once: a transfer has at most one debit and one credit row (transactions_transfer_leg),
-- and an arrival commits only if it deletes its in-transit row (else WL006, nothing written).
CREATE TABLE transfers_in_transit (
  transfer_id  uuid PRIMARY KEY,
  from_user_id uuid NOT NULL REFERENCES users (user_id),
  to_user_id   uuid NOT NULL REFERENCES users (user_id),
  amount       numeric(20,2) NOT NULL CHECK (amount > 0),
  to_partition integer NOT NULL CHECK (to_partition >= 0),  -- the payee's (whose owner credits it)
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_in_transit_partition ON transfers_in_transit (to_partition, created_at);

-- One debit and one credit per transfer; it also serves every lookup by transfer_id, so the plain
-- index of 001 goes (one index less to keep up per row).
CREATE UNIQUE INDEX transactions_transfer_leg ON transactions (transfer_id, kind)
  WHERE transfer_id IS NOT NULL;
DROP INDEX transactions_transfer;

-- 003's ledger_apply_batch, with one change: a captured hold whose payee has another owner is
-- matched by its debit row and its in-transit row (the credit follows on the payee's owner).
CREATE OR REPLACE FUNCTION ledger_apply_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  expected integer := jsonb_array_length(batch -> 'accounts');
  updated  integer;
  changes  jsonb := coalesce(batch -> 'hold_changes', '[]'::jsonb);
  new_holds jsonb := coalesce(batch -> 'holds', '[]'::jsonb);
BEGIN
  UPDATE users u
     SET balance = a.new_balance
    FROM jsonb_to_recordset(batch -> 'accounts')
           AS a(user_id uuid, old_balance numeric, new_balance numeric)
   WHERE u.user_id = a.user_id AND u.balance = a.old_balance;
  GET DIAGNOSTICS updated = ROW_COUNT;
  IF updated <> expected THEN
    RAISE EXCEPTION 'stale balance: % of % accounts matched', updated, expected
      USING ERRCODE = 'WL001';
  END IF;

  INSERT INTO transactions (id, user_id, balance_change, old_balance, new_balance, kind, transfer_id)
  SELECT (e.item ->> 'id')::uuid, (e.item ->> 'user_id')::uuid,
         (e.item ->> 'balance_change')::numeric, (e.item ->> 'old_balance')::numeric,
         (e.item ->> 'new_balance')::numeric, e.item ->> 'kind', (e.item ->> 'transfer_id')::uuid
    FROM jsonb_array_elements(batch -> 'entries') WITH ORDINALITY AS e(item, ord)
   ORDER BY e.ord;

  INSERT INTO idempotency_keys (endpoint, key, request_hash, status_code, response_body)
  SELECT o.endpoint, o.key, o.request_hash, o.status_code, o.response_body
    FROM jsonb_to_recordset(batch -> 'outcomes')
           AS o(endpoint text, key text, request_hash text, status_code integer,
                response_body text);

  IF jsonb_array_length(new_holds) > 0 THEN
    INSERT INTO holds (hold_id, from_user_id, to_user_id, amount, expires_at)
    SELECT h.hold_id, h.from_user_id, h.to_user_id, h.amount, h.expires_at
      FROM jsonb_to_recordset(new_holds)
             AS h(hold_id uuid, from_user_id uuid, to_user_id uuid, amount numeric,
                  expires_at timestamptz);
  END IF;

  IF jsonb_array_length(changes) > 0 THEN
    UPDATE holds h
       SET status = c.status, transfer_id = c.transfer_id, captured_amount = c.captured_amount,
           closed_at = now()
      FROM jsonb_to_recordset(changes)
             AS c(hold_id uuid, status text, transfer_id uuid, captured_amount numeric)
     WHERE h.hold_id = c.hold_id AND h.status = 'pending';
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated <> jsonb_array_length(changes) THEN
      RAISE EXCEPTION 'hold not pending: % of % hold changes matched', updated,
        jsonb_array_length(changes) USING ERRCODE = 'WL002';
    END IF;
    IF EXISTS (
        SELECT 1 FROM holds h
         WHERE h.hold_id IN (SELECT (c ->> 'hold_id')::uuid FROM jsonb_array_elements(changes) c)
           AND h.status = 'captured'
           AND (SELECT count(*) FROM transactions t
                 WHERE t.transfer_id = h.transfer_id
                   AND ((t.kind = 'transfer_debit' AND t.user_id = h.from_user_id
                         AND t.balance_change = -h.captured_amount)
                     OR (t.kind = 'transfer_credit' AND t.user_id = h.to_user_id
                         AND t.balance_change = h.captured_amount)))
             + (SELECT count(*) FROM transfers_in_transit m
                 WHERE m.transfer_id = h.transfer_id AND m.to_user_id = h.to_user_id
                   AND m.amount = h.captured_amount) <> 2) THEN
      RAISE EXCEPTION 'a captured hold has no matching transfer' USING ERRCODE = 'WL003';
    END IF;
  END IF;

  -- Per payer, pending holds <= balance, on every account the batch debited (its balance is the
  -- new_balance the update above set) and every payer of a new hold; a credit or a closing cannot
  -- break it. Both probes use the partial index holds_pending_payer.
  IF EXISTS (
      SELECT 1
        FROM jsonb_to_recordset(batch -> 'accounts')
               AS a(user_id uuid, old_balance numeric, new_balance numeric)
       WHERE a.new_balance < a.old_balance
         AND a.new_balance < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                               WHERE p.from_user_id = a.user_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance' USING ERRCODE = 'WL004';
  END IF;
  IF jsonb_array_length(new_holds) > 0 AND EXISTS (
      SELECT 1
        FROM (SELECT DISTINCT h.from_user_id
                FROM jsonb_to_recordset(new_holds) AS h(from_user_id uuid)) payer
        JOIN users u ON u.user_id = payer.from_user_id
       WHERE u.balance < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                           WHERE p.from_user_id = payer.from_user_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance' USING ERRCODE = 'WL004';
  END IF;
END
$$;

-- ledger_commit_batch of 006, with the two halves of a cross-owner transfer:
-- departures: {transfer_id, from_user_id, to_user_id, amount, to_partition}, inserted before
--   ledger_apply_batch (which writes the debit row and may check a capture against them);
-- arrivals: {transfer_id, to_user_id, amount}, each must delete its in-transit row (WL006 if it is
--   not there, or names another payee or amount: the credit was applied already, or never left).
CREATE OR REPLACE FUNCTION ledger_commit_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fence      jsonb := batch -> 'fence';
  leaving    jsonb := batch -> 'departures';
  landing    jsonb := batch -> 'arrivals';
  partitions integer;
  touched    integer[];
  claimed    integer[];
  current    integer;
  matched    integer;
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
