-- The transactional outbox of the `ledger-events` stream (SPEC.md section 3; the ledger_outbox
-- table, its ordering argument and why there is no NOTIFY: migration 002): the trigger functions
-- that give every committed ledger row and every hold status change an outbox row in the same
-- transaction, so an event exists exactly when its row committed, whoever wrote it and however.
-- Their live and only definitions, applied with CREATE OR REPLACE after the numbered migrations at
-- every start-up (persistence/migrations.hpp). The triggers themselves are created by migrations
-- 002 (transactions) and 004 (holds).
--
-- Statement-level triggers with transition tables: one INSERT ... SELECT per statement, however
-- many rows a group commit holds; for ledger rows, one outbox entry per statement.

-- One entry per statement in ledger_outbox_statements (migration 014): the ids of its rows in seq
-- order; the relay reads the rows themselves. A statement trigger fires for zero rows too: no
-- entry then.
CREATE OR REPLACE FUNCTION ledger_events_from_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox_statements (row_ids)
  SELECT array_agg(id ORDER BY seq)
    FROM ledger_events_new_rows
  HAVING count(*) > 0;
  RETURN NULL;
END
$$;

-- A hold's creation (pending) is an event.
CREATE OR REPLACE FUNCTION ledger_events_from_hold_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox (user_id, account_id, currency, hold_id, status, amount, to_user_id,
                             expires_at, transfer_id, created_at)
  SELECT a.user_id, n.from_user_id, a.currency, n.hold_id, n.status, n.amount, n.to_user_id,
         n.expires_at, n.transfer_id, now()
    FROM ledger_events_new_holds n JOIN accounts a ON a.account_id = n.from_user_id;
  RETURN NULL;
END
$$;

-- Only rows whose status changed: other updates of a hold are not events.
CREATE OR REPLACE FUNCTION ledger_events_from_hold_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox (user_id, account_id, currency, hold_id, status, amount, to_user_id,
                             expires_at, transfer_id, created_at)
  SELECT a.user_id, n.from_user_id, a.currency, n.hold_id, n.status, n.amount, n.to_user_id,
         n.expires_at, n.transfer_id, now()
    FROM ledger_events_new_holds n JOIN ledger_events_old_holds o USING (hold_id)
    JOIN accounts a ON a.account_id = n.from_user_id
   WHERE n.status IS DISTINCT FROM o.status;
  RETURN NULL;
END
$$;

-- True when the holds triggers are in place (now or already), false when there is no holds table.
-- Called by transaction-service at start-up (persistence/ledger_event_outbox.cpp): a database that
-- applied 004 before the holds table existed (an early release-2 ordering) gets its triggers on
-- the first start after the table was created. Migration 004 creates the same triggers.
CREATE OR REPLACE FUNCTION ledger_events_attach_holds() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  holds regclass := to_regclass('holds');
BEGIN
  IF holds IS NULL THEN
    RETURN false;
  END IF;
  -- Several instances may start at once: one of them attaches, the others see it done.
  PERFORM pg_advisory_xact_lock(hashtext('wallet.ledger_events_attach_holds'));
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = holds AND tgname = 'ledger_events_hold_insert') THEN
    EXECUTE format('CREATE TRIGGER ledger_events_hold_insert AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS ledger_events_new_holds'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_hold_insert()', holds);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = holds AND tgname = 'ledger_events_hold_update') THEN
    EXECUTE format('CREATE TRIGGER ledger_events_hold_update AFTER UPDATE ON %s'
                   ' REFERENCING OLD TABLE AS ledger_events_old_holds'
                   ' NEW TABLE AS ledger_events_new_holds'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_hold_update()', holds);
  END IF;
  RETURN true;
END
$$;

-- A transaction of POST /transactions (or a reversal) is an event of its own, keyed by the user of
-- the first account it names (migration 011).
CREATE OR REPLACE FUNCTION ledger_events_from_ledger_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox (user_id, account_id, transaction_id, kind, body, created_at)
  SELECT coalesce(a.user_id, k.account_id), k.account_id, n.transaction_id, 'transaction',
         jsonb_build_object('postings', n.postings, 'metadata', n.metadata,
                            'reference', n.reference, 'reverses', n.reverses),
         n.created_at
    FROM ledger_events_new_transactions n
    CROSS JOIN LATERAL (
      SELECT coalesce(nullif(p ->> 'from', '@world'), p ->> 'to')::uuid AS account_id
        FROM jsonb_array_elements(n.postings) p LIMIT 1) k
    LEFT JOIN accounts a ON a.account_id = k.account_id;
  RETURN NULL;
END
$$;
