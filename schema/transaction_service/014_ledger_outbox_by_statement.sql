-- The ledger-events outbox gets one entry per ledger statement instead of a copy of every row
-- (issues 26 and 28): the statement trigger on `transactions` writes the ids of the rows it saw,
-- in their seq order, into one entry of ledger_outbox_statements, and the relay reads each row's
-- columns from the ledger itself when it publishes (persistence/ledger_event_outbox.cpp). A group
-- commit of 25 transfers wrote 50 outbox rows, and the relay read and deleted 50; now it is one
-- entry. Order is unchanged: the entry's id comes from ledger_outbox's own sequence, taken in the
-- statement after the account rows were locked (migration 002's argument), so entries of both
-- tables form one id order, and an entry's rows follow it in seq order. Such an event's event_id
-- is its ledger row's id (the same at every delivery, unique like the row).
--
-- A table of its own, not a column of ledger_outbox: a relay of an earlier version (an instance
-- not yet upgraded, during a rolling upgrade) reads only ledger_outbox, so it never sees an entry
-- it cannot decode; those wait for a relay of this version. Rows copied into ledger_outbox before
-- this migration are published as they are.
DO $$
BEGIN
  EXECUTE format(
    'CREATE TABLE ledger_outbox_statements ('
    '  id         bigint PRIMARY KEY DEFAULT nextval(%L::regclass),'
    '  row_ids    uuid[] NOT NULL CHECK (cardinality(row_ids) >= 1),'
    '  created_at timestamptz NOT NULL DEFAULT now())',
    pg_get_serial_sequence('ledger_outbox', 'id'));
END
$$;
