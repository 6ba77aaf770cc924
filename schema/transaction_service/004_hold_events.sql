-- Hold status changes on the `ledger-events` stream (see 002_ledger_events.sql): an event when a
-- hold is created (pending) and whenever its status changes (captured, voided, expired).
--
-- The trigger functions are in functions/ledger_events.sql, applied after the numbered migrations;
-- the placeholders below only let the triggers be created. (This file once ran before the holds
-- table existed on some databases, so it attached the triggers through ledger_events_attach_holds,
-- which transaction-service still calls at start-up; the holds table comes from 003, which now
-- always runs first, so a fresh database gets the same triggers here directly.)

CREATE FUNCTION ledger_events_from_hold_insert() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;
CREATE FUNCTION ledger_events_from_hold_update() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;

CREATE TRIGGER ledger_events_hold_insert AFTER INSERT ON holds
  REFERENCING NEW TABLE AS ledger_events_new_holds
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_hold_insert();
CREATE TRIGGER ledger_events_hold_update AFTER UPDATE ON holds
  REFERENCING OLD TABLE AS ledger_events_old_holds NEW TABLE AS ledger_events_new_holds
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_hold_update();
