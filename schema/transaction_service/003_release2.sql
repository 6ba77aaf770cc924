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
-- if a second update reached the database (the function: functions/holds_close_once.sql).
-- A placeholder, so that the trigger can be created: the body is functions/holds_close_once.sql,
-- applied after the numbered migrations (before anything is written).
CREATE FUNCTION holds_close_once() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;
CREATE TRIGGER holds_close_once BEFORE UPDATE ON holds
  FOR EACH ROW EXECUTE FUNCTION holds_close_once();

-- ledger_apply_batch (functions/ledger_apply_batch.sql) writes holds and closes them, checking
-- that a captured hold names its transfer and that pending holds never exceed the balance.
