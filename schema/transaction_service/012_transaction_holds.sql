-- Release 3, part 2 (SPEC.md section 8, "across owners"; DESIGN.md section 10): the debits of a
-- transaction whose payers several instances serve apply all or none.
--
-- The instance that coordinates the transaction (the owner of its first payer) asks the owner of
-- every other payer to place a hold of the posting's amount (a hold of the transaction: it names
-- the transaction and the posting, and never expires by time). With every hold standing it commits
-- its own accounts' rows together with the decision `commit` in `transaction_decisions`; each hold
-- is then captured by its owner as the posting (posting_debit, and the credit in transit as a
-- cross-owner transfer's). If a hold is refused, or the coordinator's commit never happens, the
-- decision is `abort` and every hold is voided. The decision is one row per transaction, written
-- once: whoever writes first (the coordinator's commit, or a hold's owner that waited too long and
-- aborts) decides, and the other's write fails (WL010) or reads that decision. Holds of a
-- transaction are settled only as their decision says, never by a client or by expiry.
ALTER TABLE holds
  ADD COLUMN transaction_id uuid,
  ADD COLUMN posting        smallint,
  ADD CONSTRAINT holds_of_transactions_named CHECK ((transaction_id IS NULL) = (posting IS NULL));

-- What an owner's resolver reads: the pending holds of transactions, oldest first.
CREATE INDEX holds_pending_of_transactions ON holds (created_at)
  WHERE status = 'pending' AND transaction_id IS NOT NULL;
CREATE UNIQUE INDEX holds_transaction_posting ON holds (transaction_id, posting)
  WHERE transaction_id IS NOT NULL;

CREATE TABLE transaction_decisions (
  transaction_id uuid PRIMARY KEY,
  outcome        text NOT NULL CHECK (outcome IN ('commit', 'abort')),
  decided_at     timestamptz NOT NULL DEFAULT now()
);
