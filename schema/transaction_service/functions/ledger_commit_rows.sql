-- ledger_commit_rows: a batch of balance movements only (no hold created or closed, nothing in
-- transit), as typed arrays, one parameter per column: the server parses each with the column
-- type's own input function and unnest() turns them back into rows (issue 14: no JSON tree built
-- per commit). Its live and only definition, applied with CREATE OR REPLACE after the numbered
-- migrations at every start-up (persistence/migrations.hpp).
--
--   fence:    instance ('' = no fence, as a jsonb batch without "fence"), claimed partitions and
--             their epochs, index-aligned;
--   accounts: per touched account (account_id) the balance the batch starts from and ends at,
--             index-aligned, ordered by account_id (the row-lock order);
--   entries:  the ledger rows in the order the account actors applied them (transfer_id NULL for
--             deposits and withdrawals);
--   outcomes: the idempotency outcomes stored with them;
--   entry_transactions, entry_postings: for rows of POST /transactions, their transaction and
--             posting (empty arrays, or NULL elements, for other rows: unnest pads them);
--   transactions: the ledger_transactions records of such a batch (not reversals, nor
--             transactions across owners: those go as a jsonb batch), index-aligned.
-- Checks and writes exactly what ledger_commit_batch does for such a batch, all or nothing: the
-- fence (WL005), the conditional balance update and the account's status (WL001), the rows
-- (entry_users names each row's account; its owner and currency come from the account), the
-- outcomes (WL011 when a key holds a live one), and pending holds <= balance + overdraft line on
-- every account the batch debited (WL004; its holds are untouched by the batch).
-- The signature before transactions took this path (issue 26) goes: one live definition only.
DO $$
BEGIN
  IF to_regprocedure('ledger_commit_rows(text, integer[], bigint[], uuid[], numeric[], numeric[],'
                     ' uuid[], uuid[], numeric[], numeric[], numeric[], text[], uuid[], text[],'
                     ' text[], text[], integer[], text[])') IS NOT NULL THEN
    DROP FUNCTION ledger_commit_rows(text, integer[], bigint[], uuid[], numeric[], numeric[],
                                     uuid[], uuid[], numeric[], numeric[], numeric[], text[],
                                     uuid[], text[], text[], text[], integer[], text[]);
  END IF;
END
$$;
-- plan_cache_mode = force_generic_plan (issue 28): the statements inside take their batch as array
-- or jsonb parameters, and a custom plan for each call cost more than the statements themselves
-- (the big UPDATE ... INSERT ... statement planned again per batch: pgbench of one transfer per
-- call, 8 clients, went from 765-844 to 1,010-1,259 tps with generic plans). Their generic plans
-- are the same index scans.
CREATE OR REPLACE FUNCTION ledger_commit_rows(
    fence_instance text, fence_partitions integer[], fence_epochs bigint[],
    account_ids uuid[], old_balances numeric[], new_balances numeric[],
    entry_ids uuid[], entry_users uuid[], entry_changes numeric[], entry_old numeric[],
    entry_new numeric[], entry_kinds text[], entry_transfers uuid[],
    outcome_endpoints text[], outcome_keys text[], outcome_hashes text[],
    outcome_statuses integer[], outcome_bodies text[],
    entry_transactions uuid[] DEFAULT '{}', entry_postings smallint[] DEFAULT '{}',
    transaction_ids uuid[] DEFAULT '{}', transaction_postings jsonb[] DEFAULT '{}',
    transaction_metadata jsonb[] DEFAULT '{}', transaction_references text[] DEFAULT '{}',
    transaction_times timestamptz[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  updated  integer;
  inserted integer;
BEGIN
  IF fence_instance <> '' THEN
    PERFORM ledger_check_fence(fence_instance, fence_partitions, fence_epochs, account_ids);
  END IF;

  -- The balance moves only from the balance the actors started from (WL001), and only on an
  -- account whose status allows it: open, or frozen with no debit row in the batch (the last
  -- guard of SPEC.md section 8; the actor refused the operation first). The rows take their
  -- account's owner and currency from the accounts just updated, in one statement.
  WITH moved AS (
    UPDATE accounts u
       SET balance = a.new_balance
      FROM unnest(account_ids, old_balances, new_balances) AS a(account_id, old_balance, new_balance)
     WHERE u.account_id = a.account_id AND u.balance = a.old_balance
       AND (u.status = 'open'
            OR (u.status = 'frozen'
                AND NOT EXISTS (SELECT 1 FROM unnest(entry_users, entry_changes) AS d(account_id, change)
                                 WHERE d.account_id = a.account_id AND d.change < 0)))
    RETURNING u.account_id, u.user_id, u.currency),
  written AS (
    INSERT INTO transactions (id, user_id, account_id, currency, balance_change, old_balance,
                              new_balance, kind, transfer_id, transaction_id, posting)
    SELECT e.id, m.user_id, e.account_id, m.currency, e.change, e.old_balance, e.new_balance,
           e.kind, e.transfer_id, e.transaction_id, e.posting
      FROM unnest(entry_ids, entry_users, entry_changes, entry_old, entry_new, entry_kinds,
                  entry_transfers, entry_transactions, entry_postings) WITH ORDINALITY
             AS e(id, account_id, change, old_balance, new_balance, kind, transfer_id,
                  transaction_id, posting, ord)
      JOIN moved m ON m.account_id = e.account_id
     ORDER BY e.ord
    RETURNING 1)
  SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written) INTO updated, inserted;
  IF updated <> cardinality(account_ids) OR inserted <> cardinality(entry_ids) THEN
    RAISE EXCEPTION 'stale balance or account status: % of % accounts matched', updated,
      cardinality(account_ids) USING ERRCODE = 'WL001';
  END IF;

  -- The outcomes, each under a key no live outcome holds (WL011, ledger_store_outcomes.sql).
  IF cardinality(outcome_keys) > 0 THEN
    PERFORM ledger_store_outcomes(outcome_endpoints, outcome_keys, outcome_hashes, outcome_statuses,
                                  outcome_bodies);
  END IF;

  -- Transactions of POST /transactions: their records (the statement trigger writes each one's
  -- `transaction` event), only when there are some (a statement trigger fires on zero rows too).
  IF cardinality(transaction_ids) > 0 THEN
    INSERT INTO ledger_transactions (transaction_id, postings, metadata, reference, created_at)
    SELECT * FROM unnest(transaction_ids, transaction_postings, transaction_metadata,
                         transaction_references, transaction_times);
  END IF;

  -- Pending holds <= balance + overdraft line on every account the batch debited.
  IF EXISTS (
      SELECT 1
        FROM unnest(account_ids, old_balances, new_balances) AS a(account_id, old_balance, new_balance)
        JOIN accounts u ON u.account_id = a.account_id
       WHERE a.new_balance < a.old_balance
         AND a.new_balance + u.overdraft_limit
               < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                   WHERE p.from_user_id = a.account_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance and overdraft line' USING ERRCODE = 'WL004';
  END IF;
END
$$;
