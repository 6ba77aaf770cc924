-- Release 3 (SPEC.md section 8): accounts in several currencies per user, with balance rules.
--
-- The table of balances becomes `accounts`, keyed by account_id; every existing row becomes its
-- user's default account (account_id = user_id, the default currency), so every balance, every
-- ledger row and every hold stays where it was and the release 1 and 2 paths do not change. The
-- release 1 table name stays readable: `users` is a view of the default accounts (updatable, as
-- tests and tools insert through it).
--
-- Money columns lose their numeric(20,2) type modifier: an amount is written with exactly its
-- currency's exponent ("1500" yen, "1.500" dinar, "12.30" dollars) and numeric keeps the scale it
-- was given, so the database's text is the contract's text. Relaxing the modifier rewrites no
-- table. The default currency of the rows already here is the service's DEFAULT_CURRENCY
-- (wallet.default_currency, set by the migration runner), USD when unset.

ALTER TABLE users RENAME TO accounts;
ALTER TABLE accounts RENAME COLUMN user_id TO account_id;
ALTER INDEX users_pkey RENAME TO accounts_pkey;

ALTER TABLE accounts
  ADD COLUMN user_id         uuid,
  ADD COLUMN currency        text,
  ADD COLUMN overdraft_limit numeric NOT NULL DEFAULT 0,
  ADD COLUMN status          text NOT NULL DEFAULT 'open',
  ADD COLUMN metadata        jsonb NOT NULL DEFAULT '{}';
UPDATE accounts
   SET user_id = account_id,
       currency = coalesce(nullif(current_setting('wallet.default_currency', true), ''), 'USD'),
       overdraft_limit = round(0, scale(balance));  -- "0.00", written as its balance is

DO $$
DECLARE
  c record;
BEGIN
  -- The release 1 CHECK (balance >= 0): an overdraft line replaces it below.
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'accounts'::regclass AND contype = 'c'
  LOOP
    EXECUTE format('ALTER TABLE accounts DROP CONSTRAINT %I', c.conname);
  END LOOP;
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'transactions'::regclass AND contype = 'c'
              AND (pg_get_constraintdef(oid) LIKE '%old_balance >=%'
                   OR pg_get_constraintdef(oid) LIKE '%new_balance >=%')
  LOOP
    EXECUTE format('ALTER TABLE transactions DROP CONSTRAINT %I', c.conname);
  END LOOP;
  -- The ledger rows name their account below (account_id), not their user.
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'transactions'::regclass AND contype = 'f'
  LOOP
    EXECUTE format('ALTER TABLE transactions DROP CONSTRAINT %I', c.conname);
  END LOOP;
END
$$;

ALTER TABLE accounts
  ALTER COLUMN user_id SET NOT NULL,
  ALTER COLUMN currency SET NOT NULL,
  ALTER COLUMN balance TYPE numeric,
  ADD CONSTRAINT accounts_currency_code CHECK (currency ~ '^[A-Z0-9_]{3,12}$'),
  ADD CONSTRAINT accounts_status_known CHECK (status IN ('open', 'frozen', 'closed')),
  ADD CONSTRAINT accounts_overdraft_limit_not_negative CHECK (overdraft_limit >= 0),
  -- The last guard of every balance rule: never below minus the overdraft line; closed is empty.
  ADD CONSTRAINT accounts_balance_within_limit CHECK (balance >= -overdraft_limit),
  ADD CONSTRAINT accounts_closed_are_empty CHECK (status <> 'closed' OR balance = 0),
  -- The owner is a user: its default account exists (the default account names itself).
  ADD CONSTRAINT accounts_owner_exists FOREIGN KEY (user_id) REFERENCES accounts (account_id);
CREATE INDEX accounts_user ON accounts (user_id, created_at, account_id);

-- Every change of an account's rules (PATCH /accounts/{id}), named by the id its actor gave it:
-- the account's rule history, and how a change whose commit was in doubt is found (it writes no
-- ledger row).
CREATE TABLE account_changes (
  change_id       uuid PRIMARY KEY,
  account_id      uuid NOT NULL REFERENCES accounts (account_id),
  status          text,
  overdraft_limit numeric,
  metadata        jsonb,
  changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_changes_account ON account_changes (account_id, changed_at);

-- The configured currencies (CURRENCIES, DEFAULT_CURRENCY), written by every start-up after the
-- migrations (persistence/migrations.cpp): what SQL needs to know of them.
CREATE TABLE currencies (
  code       text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{3,12}$'),
  exponent   integer NOT NULL CHECK (exponent BETWEEN 0 AND 6),
  is_default boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX currencies_one_default ON currencies (is_default) WHERE is_default;

-- Inserts that name only the release 1 columns (through the view, or an old tool) open a default
-- account in the default currency; every account's amounts are written at its currency's exponent
-- (numeric keeps the scale it is given: 0 would read "0", not "0.00").
-- Its body: functions/accounts.sql.
CREATE FUNCTION accounts_fill_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;
CREATE TRIGGER accounts_fill_defaults BEFORE INSERT ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_fill_defaults();
CREATE TRIGGER accounts_keep_scale BEFORE UPDATE OF balance, overdraft_limit ON accounts
  FOR EACH ROW WHEN (scale(NEW.balance) <> scale(OLD.balance)
                     OR scale(NEW.overdraft_limit) <> scale(OLD.overdraft_limit))
  EXECUTE FUNCTION accounts_fill_defaults();

CREATE VIEW users AS
  SELECT account_id AS user_id, balance, created_at FROM accounts WHERE account_id = user_id;

-- Every ledger row names its account and currency; user_id stays the owner (for a default account
-- the same id).
ALTER TABLE transactions
  ADD COLUMN account_id uuid,
  ADD COLUMN currency   text;
UPDATE transactions t SET account_id = t.user_id, currency = a.currency
  FROM accounts a WHERE a.account_id = t.user_id;
ALTER TABLE transactions
  ALTER COLUMN account_id SET NOT NULL,
  ALTER COLUMN currency SET NOT NULL,
  ALTER COLUMN balance_change TYPE numeric,
  ALTER COLUMN old_balance TYPE numeric,
  ALTER COLUMN new_balance TYPE numeric,
  ADD CONSTRAINT transactions_account_exists FOREIGN KEY (account_id) REFERENCES accounts (account_id);
CREATE INDEX transactions_account_seq ON transactions (account_id, seq DESC);
DROP INDEX transactions_user_seq;

-- Rows written by a release 2 writer (a tool, a test) name only the user: theirs is the user's
-- default account, at its currency's exponent. The ledger's own writes name both, and the WHEN
-- keeps this off their path.
-- Its body: functions/accounts.sql.
CREATE FUNCTION transactions_fill_account() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;
CREATE TRIGGER transactions_fill_account BEFORE INSERT ON transactions
  FOR EACH ROW WHEN (NEW.account_id IS NULL OR NEW.currency IS NULL)
  EXECUTE FUNCTION transactions_fill_account();

-- Holds and transit name accounts (for a default account, its user's id: the release 2 columns).
ALTER TABLE holds
  ALTER COLUMN amount TYPE numeric,
  ALTER COLUMN captured_amount TYPE numeric;
ALTER TABLE transfers_in_transit ALTER COLUMN amount TYPE numeric;

-- Events name the account and its currency; user_id stays the owner and the Kafka key.
ALTER TABLE ledger_outbox
  ADD COLUMN account_id uuid,
  ADD COLUMN currency   text,
  ALTER COLUMN balance_change TYPE numeric,
  ALTER COLUMN old_balance TYPE numeric,
  ALTER COLUMN new_balance TYPE numeric,
  ALTER COLUMN amount TYPE numeric;
