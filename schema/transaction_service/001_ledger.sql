-- transaction_service ledger: accounts, one row per balance change, idempotency outcomes.
-- The constraints are the last guard: even wrong code cannot make a balance negative, break a
-- row's old + change = new arithmetic, or store two outcomes for one idempotency key.

CREATE TABLE users (
  user_id    uuid PRIMARY KEY,
  balance    numeric(20,2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transactions (
  id             uuid PRIMARY KEY,
  -- seq orders rows in commit order; within one account it is the order its actor applied them.
  seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  user_id        uuid NOT NULL REFERENCES users (user_id),
  balance_change numeric(20,2) NOT NULL CHECK (balance_change <> 0),
  old_balance    numeric(20,2) NOT NULL CHECK (old_balance >= 0),
  new_balance    numeric(20,2) NOT NULL CHECK (new_balance >= 0),
  kind           text NOT NULL CHECK (kind IN ('deposit', 'transfer_debit', 'transfer_credit')),
  transfer_id    uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (old_balance + balance_change = new_balance),
  CHECK ((kind = 'deposit') = (transfer_id IS NULL)),
  CHECK ((kind = 'transfer_debit') = (balance_change < 0))
);
CREATE INDEX transactions_user_seq ON transactions (user_id, seq DESC);
CREATE INDEX transactions_transfer ON transactions (transfer_id) WHERE transfer_id IS NOT NULL;

CREATE TABLE idempotency_keys (
  endpoint      text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  status_code   integer NOT NULL,
  response_body text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint, key)
);

-- Applies one group-commit batch in a single statement (and so a single round trip and commit).
-- accounts: one entry per touched account, {user_id, old_balance, new_balance}: the balance the
--   batch starts from and ends at. The update is conditional on the old balance, so a batch built on
--   a stale in-memory balance fails as a whole instead of writing a wrong chain.
-- entries: the ledger rows in the order the account actors applied them.
-- outcomes: idempotency outcomes stored in the same commit as the money movement they describe.
CREATE FUNCTION ledger_apply_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  expected integer := jsonb_array_length(batch -> 'accounts');
  updated  integer;
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
END
$$;
