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

-- The functions that write these tables (ledger_apply_batch, ...) are not here: each has one live
-- definition in functions/, applied with CREATE OR REPLACE after the numbered migrations
-- (persistence/migrations.hpp). The migrations keep tables, indexes, constraints and triggers.
