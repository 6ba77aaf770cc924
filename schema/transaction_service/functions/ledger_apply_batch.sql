-- ledger_apply_batch: applies one group-commit batch. Its live and only definition, applied with
-- CREATE OR REPLACE after the numbered migrations at every start-up (persistence/migrations.hpp).
-- Called by ledger_commit_batch after the fence; never by the service directly.
--
-- batch (jsonb):
--   accounts:     one entry per touched account, {user_id, old_balance, new_balance}: the balance
--                 the batch starts from and ends at. The update is conditional on the old balance,
--                 so a batch built on a stale in-memory balance fails as a whole (WL001) instead of
--                 writing a wrong chain.
--   entries:      the ledger rows in the order the account actors applied them.
--   outcomes:     idempotency outcomes stored in the same commit as the money movement they
--                 describe; a key that holds a live outcome refuses the batch (WL011), an
--                 expired one is replaced.
--   holds:        (optional) new pending holds {hold_id, from_user_id, to_user_id, amount,
--                 expires_at}.
--   hold_changes: (optional) closings {hold_id, status, transfer_id, captured_amount}, each
--                 conditional on the hold being pending: if any is not, the whole batch fails
--                 (WL002) and nothing is written.
--   transactions: (optional) transactions of POST /transactions {transaction_id, postings,
--                 metadata, reference, created_at, and for a reversal reverses, reversible and
--                 reversed_now}; their rows are among the entries (with transaction_id and
--                 posting). A reversal adds its amount to transaction_reversals, whose CHECK
--                 refuses the batch that would reverse more than the original holds.
--                 `decides`: a transaction across owners, whose commit records the decision
--                 `commit` (migration 012); refused (WL010) when `abort` was recorded first.
--   holds:        may name a transaction and a posting (a hold of a transaction across owners,
--                 captured as that posting's rows).
-- Guarantees, all or nothing:
-- - a captured hold names a transfer whose debit row (payer, -captured amount) is in the ledger,
--   and whose credit row (payee, +captured amount) is too, or, when the payee has another owner,
--   its in-transit row (transfers_in_transit, migration 007; the credit follows there) (WL003);
-- - afterwards, for every account the batch debited or gave a new hold, the pending holds do not
--   exceed the balance (WL004).
-- The tables' constraints (001, 003, 007) remain the last guard under all of this.
-- plan_cache_mode: as ledger_commit_rows (issue 28).
CREATE OR REPLACE FUNCTION ledger_apply_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  expected integer := jsonb_array_length(batch -> 'accounts');
  updated  integer;
  inserted integer;
  account_changes jsonb := coalesce(batch -> 'account_changes', '[]'::jsonb);
  changes  jsonb := coalesce(batch -> 'hold_changes', '[]'::jsonb);
  new_holds jsonb := coalesce(batch -> 'holds', '[]'::jsonb);
BEGIN
  -- As ledger_commit_rows: the conditional update also checks the account's status (open, or
  -- frozen and only credited), and the rows take their owner and currency from their account.
  WITH moved AS (
    UPDATE accounts u
       SET balance = a.new_balance
      FROM jsonb_to_recordset(batch -> 'accounts')
             AS a(user_id uuid, old_balance numeric, new_balance numeric)
     WHERE u.account_id = a.user_id AND u.balance = a.old_balance
       -- Open, or frozen and only credited: no debit row of it in the batch (its net change is
       -- not enough, a credit in the same batch would hide a debit).
       AND (u.status = 'open'
            OR (u.status = 'frozen'
                AND NOT EXISTS (
                  SELECT 1 FROM jsonb_array_elements(batch -> 'entries') AS d(item)
                   WHERE (d.item ->> 'user_id')::uuid = a.user_id
                     AND (d.item ->> 'balance_change')::numeric < 0)))
    RETURNING u.account_id, u.user_id, u.currency),
  written AS (
    INSERT INTO transactions (id, user_id, account_id, currency, balance_change, old_balance,
                              new_balance, kind, transfer_id, transaction_id, posting)
    SELECT (e.item ->> 'id')::uuid, m.user_id, m.account_id, m.currency,
           (e.item ->> 'balance_change')::numeric, (e.item ->> 'old_balance')::numeric,
           (e.item ->> 'new_balance')::numeric, e.item ->> 'kind', (e.item ->> 'transfer_id')::uuid,
           (e.item ->> 'transaction_id')::uuid, (e.item ->> 'posting')::smallint
      FROM jsonb_array_elements(batch -> 'entries') WITH ORDINALITY AS e(item, ord)
      JOIN moved m ON m.account_id = (e.item ->> 'user_id')::uuid
     ORDER BY e.ord
    RETURNING 1)
  SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written) INTO updated, inserted;
  IF updated <> expected OR inserted <> jsonb_array_length(batch -> 'entries') THEN
    RAISE EXCEPTION 'stale balance or account status: % of % accounts matched', updated, expected
      USING ERRCODE = 'WL001';
  END IF;

  -- Under keys no live outcome holds (WL011), an expired one replaced (ledger_store_outcomes).
  IF jsonb_array_length(coalesce(batch -> 'outcomes', '[]'::jsonb)) > 0 THEN
    PERFORM ledger_store_outcomes(array_agg(o.endpoint), array_agg(o.key),
                                  array_agg(o.request_hash), array_agg(o.status_code),
                                  array_agg(o.response_body))
       FROM jsonb_to_recordset(batch -> 'outcomes')
              AS o(endpoint text, key text, request_hash text, status_code integer,
                   response_body text);
  END IF;

  IF batch ? 'transactions' THEN
    INSERT INTO ledger_transactions (transaction_id, postings, metadata, reference, reverses,
                                     created_at)
    SELECT t.transaction_id, t.postings, coalesce(t.metadata, '{}'::jsonb), t.reference,
           t.reverses, t.created_at
      FROM jsonb_to_recordset(batch -> 'transactions')
             AS t(transaction_id uuid, postings jsonb, metadata jsonb, reference text,
                  reverses uuid, created_at timestamptz);
    -- Across owners (012): the commit of the coordinator's accounts is the decision `commit`,
    -- unless a hold's owner decided `abort` first (it waited too long): then nothing is written
    -- (WL010) and the transaction never applies.
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(batch -> 'transactions') AS t(decides boolean)
                WHERE t.decides) THEN
      INSERT INTO transaction_decisions (transaction_id, outcome)
      SELECT t.transaction_id, 'commit'
        FROM jsonb_to_recordset(batch -> 'transactions') AS t(transaction_id uuid, decides boolean)
       WHERE t.decides
      ON CONFLICT (transaction_id) DO NOTHING;
      IF EXISTS (
          SELECT 1 FROM jsonb_to_recordset(batch -> 'transactions')
                          AS t(transaction_id uuid, decides boolean)
            JOIN transaction_decisions d USING (transaction_id)
           WHERE t.decides AND d.outcome = 'abort') THEN
        RAISE EXCEPTION 'a transaction across owners was aborted before its commit'
          USING ERRCODE = 'WL010';
      END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(batch -> 'transactions') AS t(reverses uuid)
                WHERE t.reverses IS NOT NULL) THEN
      -- The row lock of the upsert orders racing reversals of one transaction; the CHECK
      -- (reversed <= reversible) refuses the one that would reverse more than is left: WL009,
      -- so that its client hears already_reversed (nothing is written).
      BEGIN
        INSERT INTO transaction_reversals AS r (transaction_id, reversible, reversed)
        SELECT t.reverses, t.reversible, t.reversed_now
          FROM jsonb_to_recordset(batch -> 'transactions')
                 AS t(reverses uuid, reversible numeric, reversed_now numeric)
         WHERE t.reverses IS NOT NULL
        ON CONFLICT (transaction_id) DO UPDATE SET reversed = r.reversed + EXCLUDED.reversed;
      EXCEPTION WHEN check_violation THEN
        RAISE EXCEPTION 'a reversal exceeds what is left of its transaction'
          USING ERRCODE = 'WL009';
      END;
    END IF;
  END IF;

  IF jsonb_array_length(new_holds) > 0 THEN
    -- A new hold reserves money of an open account only (frozen and closed ones refuse it).
    IF EXISTS (
        SELECT 1 FROM jsonb_to_recordset(new_holds) AS h(from_user_id uuid)
          JOIN accounts u ON u.account_id = h.from_user_id
         WHERE u.status <> 'open') THEN
      RAISE EXCEPTION 'a new hold of an account that is not open' USING ERRCODE = 'WL001';
    END IF;
    -- A hold of a transaction across owners credits its payee when captured: the payee must not
    -- be closed, now or before the hold is settled (the share lock orders this against a
    -- closing's row lock; a closing then sees the pending hold, WL007).
    PERFORM 1 FROM accounts b
      JOIN jsonb_to_recordset(new_holds) AS h(to_user_id uuid, transaction_id uuid)
        ON b.account_id = h.to_user_id
     WHERE h.transaction_id IS NOT NULL
       FOR SHARE OF b;
    IF EXISTS (
        SELECT 1 FROM jsonb_to_recordset(new_holds) AS h(to_user_id uuid, transaction_id uuid)
          JOIN accounts b ON b.account_id = h.to_user_id
         WHERE h.transaction_id IS NOT NULL AND b.status = 'closed') THEN
      RAISE EXCEPTION 'a hold of a transaction for a closed payee' USING ERRCODE = 'WL008';
    END IF;
    INSERT INTO holds (hold_id, from_user_id, to_user_id, amount, expires_at, transaction_id,
                       posting)
    SELECT h.hold_id, h.from_user_id, h.to_user_id, h.amount, h.expires_at, h.transaction_id,
           h.posting
      FROM jsonb_to_recordset(new_holds)
             AS h(hold_id uuid, from_user_id uuid, to_user_id uuid, amount numeric,
                  expires_at timestamptz, transaction_id uuid, posting smallint);
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
           AND (CASE WHEN h.transaction_id IS NULL THEN
                  (SELECT count(*) FROM transactions t
                    WHERE t.transfer_id = h.transfer_id
                      AND ((t.kind = 'transfer_debit' AND t.account_id = h.from_user_id
                            AND t.balance_change = -h.captured_amount)
                        OR (t.kind = 'transfer_credit' AND t.account_id = h.to_user_id
                            AND t.balance_change = h.captured_amount)))
                ELSE  -- a hold of a transaction: captured as its posting's rows (012)
                  (SELECT count(*) FROM transactions t
                    WHERE t.transaction_id = h.transaction_id AND t.posting = h.posting
                      AND ((t.kind = 'posting_debit' AND t.account_id = h.from_user_id
                            AND t.balance_change = -h.captured_amount)
                        OR (t.kind = 'posting_credit' AND t.account_id = h.to_user_id
                            AND t.balance_change = h.captured_amount)))
                END)
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
        JOIN accounts u ON u.account_id = a.user_id
       WHERE a.new_balance < a.old_balance
         AND a.new_balance + u.overdraft_limit
               < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                   WHERE p.from_user_id = a.user_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance' USING ERRCODE = 'WL004';
  END IF;
  IF jsonb_array_length(new_holds) > 0 AND EXISTS (
      SELECT 1
        FROM (SELECT DISTINCT h.from_user_id
                FROM jsonb_to_recordset(new_holds) AS h(from_user_id uuid)) payer
        JOIN accounts u ON u.account_id = payer.from_user_id
       WHERE u.balance + u.overdraft_limit < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                           WHERE p.from_user_id = payer.from_user_id AND p.status = 'pending')) THEN
    RAISE EXCEPTION 'pending holds exceed the balance' USING ERRCODE = 'WL004';
  END IF;

  -- Changes of an account's rules (PATCH /accounts/{id}), decided by its actor in its
  -- order. The table's CHECKs stay the last guard (balance >= -overdraft_limit, closed is empty);
  -- closing also needs no pending hold and no credit in transit to it (WL007), and a closed
  -- account never changes again (WL008).
  IF jsonb_array_length(account_changes) > 0 THEN
    PERFORM 1 FROM accounts a
      JOIN jsonb_to_recordset(account_changes) AS c(account_id uuid) USING (account_id)
       FOR UPDATE OF a;
    IF EXISTS (
        SELECT 1 FROM jsonb_to_recordset(account_changes) AS c(account_id uuid, status text)
         WHERE c.status = 'closed'
           AND (EXISTS (SELECT 1 FROM holds p
                         WHERE p.from_user_id = c.account_id AND p.status = 'pending')
             -- a hold of a transaction across owners crediting it: once decided `commit`, its
             -- capture must be able to credit the account (012)
             OR EXISTS (SELECT 1 FROM holds q
                         WHERE q.to_user_id = c.account_id AND q.status = 'pending'
                           AND q.transaction_id IS NOT NULL)
             OR EXISTS (SELECT 1 FROM transfers_in_transit m
                         WHERE m.to_user_id = c.account_id))) THEN
      RAISE EXCEPTION 'an account to close has a pending hold or a credit in transit'
        USING ERRCODE = 'WL007';
    END IF;
    -- Nor is an account frozen while it pays a hold of a transaction across owners (012): once
    -- decided `commit`, the hold's capture must be able to debit it (its actor refuses first).
    IF EXISTS (
        SELECT 1 FROM jsonb_to_recordset(account_changes) AS c(account_id uuid, status text)
         WHERE c.status = 'frozen'
           AND EXISTS (SELECT 1 FROM holds p
                        WHERE p.from_user_id = c.account_id AND p.status = 'pending'
                          AND p.transaction_id IS NOT NULL)) THEN
      RAISE EXCEPTION 'an account to freeze pays a hold of a transaction being decided'
        USING ERRCODE = 'WL007';
    END IF;
    UPDATE accounts a
       SET status = coalesce(c.status, a.status),
           overdraft_limit = coalesce(c.overdraft_limit, a.overdraft_limit),
           metadata = coalesce(c.metadata, a.metadata)
      FROM jsonb_to_recordset(account_changes)
             AS c(account_id uuid, status text, overdraft_limit numeric, metadata jsonb)
     WHERE a.account_id = c.account_id AND a.status <> 'closed';
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated <> jsonb_array_length(account_changes) THEN
      RAISE EXCEPTION 'account closed: % of % account changes matched', updated,
        jsonb_array_length(account_changes) USING ERRCODE = 'WL008';
    END IF;
    INSERT INTO account_changes (change_id, account_id, status, overdraft_limit, metadata)
    SELECT c.change_id, c.account_id, c.status, c.overdraft_limit, c.metadata
      FROM jsonb_to_recordset(account_changes)
             AS c(change_id uuid, account_id uuid, status text, overdraft_limit numeric,
                  metadata jsonb);
    -- Pending holds <= balance + overdraft line after a lowered line.
    IF EXISTS (
        SELECT 1 FROM accounts a
          JOIN jsonb_to_recordset(account_changes) AS c(account_id uuid) USING (account_id)
         WHERE a.balance + a.overdraft_limit
                 < (SELECT coalesce(sum(p.amount), 0) FROM holds p
                     WHERE p.from_user_id = a.account_id AND p.status = 'pending')) THEN
      RAISE EXCEPTION 'pending holds exceed the balance and overdraft line' USING ERRCODE = 'WL004';
    END IF;
  END IF;
END
$$;
