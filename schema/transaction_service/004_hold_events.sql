-- Hold status changes on the `ledger-events` stream (see 002_ledger_events.sql): an event when a
-- hold is created (pending) and whenever its status changes (captured, voided, expired).
--
-- The holds table comes from 003_holds.sql. This migration works whether or not it exists yet:
-- ledger_events_attach_holds() adds the triggers when the table is there and they are not, and is
-- called here and again by transaction-service at start-up (a database that applied this file
-- before 003 existed gets its triggers on the first start after 003 was applied).

CREATE FUNCTION ledger_events_from_hold_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox (user_id, hold_id, status, amount, to_user_id, expires_at, transfer_id,
                             created_at)
  SELECT from_user_id, hold_id, status, amount, to_user_id, expires_at, transfer_id, now()
    FROM ledger_events_new_holds;
  RETURN NULL;
END
$$;

-- Only rows whose status changed: other updates of a hold are not events.
CREATE FUNCTION ledger_events_from_hold_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_outbox (user_id, hold_id, status, amount, to_user_id, expires_at, transfer_id,
                             created_at)
  SELECT n.from_user_id, n.hold_id, n.status, n.amount, n.to_user_id, n.expires_at, n.transfer_id,
         now()
    FROM ledger_events_new_holds n JOIN ledger_events_old_holds o USING (hold_id)
   WHERE n.status IS DISTINCT FROM o.status;
  RETURN NULL;
END
$$;

-- True when the holds triggers are in place (now or already), false when there is no holds table.
CREATE FUNCTION ledger_events_attach_holds() RETURNS boolean
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

SELECT ledger_events_attach_holds();
