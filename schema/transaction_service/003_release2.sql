-- Release 2 money features (SPEC.md "Added in release 2"): withdrawals and holds.
-- As in 001, the constraints are the last guard:
-- - a withdrawal row takes money out (negative change) and belongs to no transfer;
-- - a hold leaves `pending` once, for exactly one of captured, voided or expired (a trigger refuses
--   any later change), and a captured hold names its transfer and the amount it moved;
-- - per payer, the pending holds never exceed the balance (checked by ledger_apply_batch on every
--   account a batch touches).

-- Withdrawals: widen the checks on `kind` of 001 (their generated names are looked up rather than
-- assumed) and name the new ones.
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'transactions'::regclass AND contype = 'c'
              AND pg_get_constraintdef(oid) LIKE '%kind%'
  LOOP
    EXECUTE format('ALTER TABLE transactions DROP CONSTRAINT %I', c.conname);
  END LOOP;
END
$$;
ALTER TABLE transactions
  ADD CONSTRAINT transactions_kind_known
    CHECK (kind IN ('deposit', 'withdrawal', 'transfer_debit', 'transfer_credit')),
  ADD CONSTRAINT transactions_transfer_rows_only
    CHECK ((kind IN ('deposit', 'withdrawal')) = (transfer_id IS NULL)),
  ADD CONSTRAINT transactions_debits_are_negative
    CHECK ((kind IN ('transfer_debit', 'withdrawal')) = (balance_change < 0));

CREATE TABLE holds (
  hold_id         uuid PRIMARY KEY,
  from_user_id    uuid NOT NULL REFERENCES users (user_id),
  to_user_id      uuid NOT NULL REFERENCES users (user_id),
  amount          numeric(20,2) NOT NULL CHECK (amount > 0),
  status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'captured', 'voided', 'expired')),
  expires_at      timestamptz NOT NULL,
  transfer_id     uuid,
  captured_amount numeric(20,2),
  created_at      timestamptz NOT NULL DEFAULT now(),
  closed_at       timestamptz,
  CHECK (from_user_id <> to_user_id),
  CHECK ((status = 'captured') = (transfer_id IS NOT NULL)),
  CHECK ((status = 'captured') = (captured_amount IS NOT NULL)),
  CHECK (captured_amount IS NULL OR (captured_amount > 0 AND captured_amount <= amount)),
  CHECK ((status = 'pending') = (closed_at IS NULL))
);
-- What an account load reads, and what the invariant check sums.
CREATE INDEX holds_pending_payer ON holds (from_user_id) WHERE status = 'pending';
-- What the expiry sweep scans.
CREATE INDEX holds_pending_expiry ON holds (expires_at) WHERE status = 'pending';
CREATE UNIQUE INDEX holds_transfer ON holds (transfer_id) WHERE transfer_id IS NOT NULL;

-- A hold is closed once: capture, void and expiry racing each other have exactly one winner even
-- if a second update reached the database.
CREATE FUNCTION holds_close_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' THEN
    RAISE EXCEPTION 'hold % is already %', OLD.hold_id, OLD.status USING ERRCODE = 'WL002';
  END IF;
  IF NEW.hold_id <> OLD.hold_id OR NEW.from_user_id <> OLD.from_user_id
     OR NEW.to_user_id <> OLD.to_user_id OR NEW.amount <> OLD.amount
     OR NEW.expires_at <> OLD.expires_at THEN
    RAISE EXCEPTION 'hold % terms are immutable', OLD.hold_id USING ERRCODE = 'WL002';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER holds_close_once BEFORE UPDATE ON holds
  FOR EACH ROW EXECUTE FUNCTION holds_close_once();

-- ledger_apply_batch of 001 (every guard kept), extended by two optional arrays:
-- holds: new pending holds {hold_id, from_user_id, to_user_id, amount, expires_at};
-- hold_changes: closings {hold_id, status, transfer_id, captured_amount}, each conditional on the
--   hold being pending: if any is not, the whole batch fails (WL002) and nothing is written.
-- A captured hold must name a transfer whose two rows are in the ledger, debiting its payer by the
-- captured amount (WL003). Afterwards, for every account the batch debited or gave a new hold,
-- the pending holds must not exceed the balance (WL004).
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
                         AND t.balance_change = h.captured_amount))) <> 2) THEN
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
