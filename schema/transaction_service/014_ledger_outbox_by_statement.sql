-- The ledger-events outbox holds one entry per ledger statement instead of a copy of every row
-- (issues 26 and 28): the statement trigger on `transactions` writes the ids of the rows it saw,
-- in their seq order, into one entry (row_ids), and the relay reads each row's columns from the
-- ledger itself when it publishes (persistence/ledger_event_outbox.cpp). A group commit of 25
-- transfers wrote 50 outbox rows, and the relay read and deleted 50; now it is one entry. Order is
-- unchanged: the entry's id comes from the same sequence, taken in the statement after the
-- account rows were locked (migration 002's argument), and its rows follow it in seq order.
-- Such an event's event_id is its ledger row's id (the same at every delivery, unique like the row).
-- Entries written before this migration (a row copied per event) are published as before.
ALTER TABLE ledger_outbox
  ADD COLUMN row_ids uuid[],
  ALTER COLUMN user_id DROP NOT NULL,
  DROP CONSTRAINT ledger_outbox_check,
  ADD CONSTRAINT ledger_outbox_one_kind
    CHECK (num_nonnulls(transaction_id, hold_id, row_ids) = 1
           AND (row_ids IS NOT NULL OR user_id IS NOT NULL)
           AND (row_ids IS NULL OR cardinality(row_ids) >= 1));
