-- A ledger row's account exists without a foreign key (issues 26 and 28): the key's check ran once
-- per inserted row, an SPI query locking the account row FOR KEY SHARE, and cost Postgres about
-- 5 µs per transfer row and 10 per payment row (measured with and without it in one run; see
-- docs/performance.md, "A payment with a fee against a transfer"). What it guaranteed still holds:
-- - the ledger's only writers, ledger_commit_rows and ledger_apply_batch, insert a row only
--   joined to the account the same statement just updated (and raise WL001 when a row found none),
--   and take its owner and currency from that account;
-- - a row written by a tool or a test that names only its user gets account and currency from the
--   user's account (transactions_fill_account), and a NOT NULL currency refuses an unknown one;
-- - an account is never deleted (closed instead, SPEC.md section 8): the statement trigger below
--   refuses DELETE and TRUNCATE of accounts, so no row can lose its account afterwards;
-- - wallet-ledger-check's "ledger rows of unknown accounts" check reads the whole ledger for a row
--   without its account (tools/wallet_stress/sql_verifier.cpp).
ALTER TABLE transactions DROP CONSTRAINT IF EXISTS transactions_account_exists;

-- A placeholder, so that the triggers can be created: the body is functions/accounts.sql.
CREATE FUNCTION accounts_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;

CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION accounts_never_deleted();
CREATE TRIGGER accounts_never_truncated BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION accounts_never_deleted();
