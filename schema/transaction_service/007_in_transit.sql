-- Transfers across owners (SPEC.md section 7). When the payer's and the payee's accounts belong to
-- different instances, a transfer settles in two commits linked by its transfer_id: the payer's
-- owner commits the debit row together with a row here (the money is "in transit"), and the
-- payee's owner later commits the credit row and deletes this row in one transaction. So at every
-- moment: sum(users.balance) + sum(transfers_in_transit.amount) = deposits - withdrawals.
--
-- Exactly once: a transfer has at most one debit and one credit row (transactions_transfer_leg),
-- and an arrival commits only if it deletes its in-transit row (else WL006, nothing written).
CREATE TABLE transfers_in_transit (
  transfer_id  uuid PRIMARY KEY,
  from_user_id uuid NOT NULL REFERENCES users (user_id),
  to_user_id   uuid NOT NULL REFERENCES users (user_id),
  amount       numeric(20,2) NOT NULL CHECK (amount > 0),
  to_partition integer NOT NULL CHECK (to_partition >= 0),  -- the payee's (whose owner credits it)
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_in_transit_partition ON transfers_in_transit (to_partition, created_at);

-- One debit and one credit per transfer; it also serves every lookup by transfer_id, so the plain
-- index of 001 goes (one index less to keep up per row).
CREATE UNIQUE INDEX transactions_transfer_leg ON transactions (transfer_id, kind)
  WHERE transfer_id IS NOT NULL;
DROP INDEX transactions_transfer;

-- ledger_commit_batch writes the two halves (departures with the debit, arrivals with the credit,
-- WL006 if an arrival finds no row to delete), and ledger_apply_batch matches a captured hold
-- whose payee has another owner by its debit row and its in-transit row: functions/.
