-- The triggers of `accounts` and `transactions` (migration 010_accounts.sql creates them with
-- placeholders). Their live and only definitions, applied with CREATE OR REPLACE after the
-- numbered migrations at every start-up (persistence/migrations.hpp).

-- Inserts that name only the release 1 columns (through the `users` view, or an old tool) open a
-- default account in the default currency; every account's amounts are written at its currency's
-- exponent (numeric keeps the scale it is given: 0 would read "0", not "0.00"), on insert and
-- when an update (not the ledger's: its amounts have that scale already) writes another scale.
CREATE OR REPLACE FUNCTION accounts_fill_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  e integer;
BEGIN
  NEW.user_id := coalesce(NEW.user_id, NEW.account_id);
  NEW.currency := coalesce(NEW.currency, (SELECT code FROM currencies WHERE is_default),
                           nullif(current_setting('wallet.default_currency', true), ''), 'USD');
  e := coalesce((SELECT exponent FROM currencies WHERE code = NEW.currency), 2);
  NEW.balance := round(NEW.balance, e);
  NEW.overdraft_limit := round(NEW.overdraft_limit, e);
  RETURN NEW;
END
$$;

-- Rows written by a release 2 writer (a tool, a test) name only the user: theirs is the user's
-- default account, and their amounts are written at its currency's exponent. The ledger's own
-- writes name both (already at that exponent), and the trigger's WHEN keeps this off their path.
CREATE OR REPLACE FUNCTION transactions_fill_account() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  e integer;
BEGIN
  NEW.account_id := coalesce(NEW.account_id, NEW.user_id);
  NEW.currency := coalesce(NEW.currency,
                           (SELECT currency FROM accounts WHERE account_id = NEW.account_id));
  e := coalesce((SELECT exponent FROM currencies WHERE code = NEW.currency), 2);
  NEW.balance_change := round(NEW.balance_change, e);
  NEW.old_balance := round(NEW.old_balance, e);
  NEW.new_balance := round(NEW.new_balance, e);
  RETURN NEW;
END
$$;

-- An account is closed, never deleted (migration 013): its ledger rows keep naming it.
CREATE OR REPLACE FUNCTION accounts_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'accounts are never deleted: close the account instead (PATCH /accounts/{id})'
    USING ERRCODE = 'restrict_violation';
END
$$;
