-- The transactional outbox of the `ledger-events` stream (SPEC.md section 3): every committed
-- ledger row (and, from 004_hold_events.sql, every hold status change) gets an outbox row in the
-- same transaction, so an event exists exactly when its row committed, whoever wrote it and however
-- (ledger_apply_batch is not changed: the triggers below see what it inserts). The relay of
-- transaction-service (messaging/ledger_event_relay.cpp) publishes the rows in id order and deletes
-- a row only after Kafka acknowledged it.
--
-- Order: ids come from one sequence, taken while the statement runs. Every ledger statement
-- updates the account rows it touches first (ledger_apply_batch), and holds that row lock until
-- commit, so two transactions touching one account take their ids in their commit order: id order
-- is each account's commit order, which is what the relay keeps per key (= user_id).
--
-- Columns, not JSON: the relay encodes the wire format (messaging/ledger_event.cpp); the money
-- path only copies typed values. Statement-level triggers with transition tables: one INSERT ...
-- SELECT per statement, however many rows a group commit holds.
--
-- No NOTIFY here on purpose: NOTIFY takes a database-wide lock held until the end of commit, which
-- would serialize every committing money transaction (group commit of concurrent writers lost).
-- The relay is woken in-process after each ledger commit instead, and polls for rows that others
-- committed.

CREATE TABLE ledger_outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id        uuid NOT NULL,  -- the Kafka key
  -- a ledger row (transactions)
  transaction_id uuid,
  kind           text,
  balance_change numeric(20,2),
  old_balance    numeric(20,2),
  new_balance    numeric(20,2),
  transfer_id    uuid,
  -- a hold status change (holds): user_id is the payer, whose available balance it changes
  hold_id        uuid,
  status         text,
  amount         numeric(20,2),
  to_user_id     uuid,
  expires_at     timestamptz,
  created_at     timestamptz NOT NULL,
  CHECK ((transaction_id IS NULL) <> (hold_id IS NULL))
);

-- A placeholder, so that the trigger can be created: the body is functions/ledger_events.sql,
-- applied after the numbered migrations (before anything is written).
CREATE FUNCTION ledger_events_from_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;

CREATE TRIGGER ledger_events AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS ledger_events_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_transactions();
