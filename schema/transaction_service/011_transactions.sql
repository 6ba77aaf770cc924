-- Release 3, part 2 (SPEC.md section 8, "Transactions of many postings"): a transaction of 1..32
-- postings applies all or nothing; it can be reversed, whole or (one posting) in part; it is found
-- by account, reference, metadata and time.
--
-- The rows of `transactions` stay the ledger: a posting writes a debit row (its `from` account)
-- and a credit row (its `to` account), one row when a side is `@world` (the outside, which has no
-- row). Rows of a POST /transactions carry the transaction's id and the posting's index; their
-- kinds: `posting_debit`/`posting_credit` between two accounts, `deposit`/`withdrawal` for a
-- posting from/to `@world`. Rows of the release 1 and 2 endpoints keep their columns (no
-- transaction_id: their transaction is their transfer_id, or for a deposit or withdrawal the row's
-- own id), so nothing is rewritten here.
ALTER TABLE transactions
  ADD COLUMN transaction_id uuid,
  ADD COLUMN posting        smallint;

ALTER TABLE transactions
  DROP CONSTRAINT transactions_kind_known,
  DROP CONSTRAINT transactions_transfer_rows_only,
  DROP CONSTRAINT transactions_debits_are_negative;
ALTER TABLE transactions
  ADD CONSTRAINT transactions_kind_known
    CHECK (kind IN ('deposit', 'withdrawal', 'transfer_debit', 'transfer_credit', 'posting_debit',
                    'posting_credit')),
  ADD CONSTRAINT transactions_transfer_rows_only
    CHECK ((kind IN ('transfer_debit', 'transfer_credit')) = (transfer_id IS NOT NULL)),
  ADD CONSTRAINT transactions_debits_are_negative
    CHECK ((kind IN ('transfer_debit', 'withdrawal', 'posting_debit')) = (balance_change < 0)),
  ADD CONSTRAINT transactions_postings_named
    CHECK ((transaction_id IS NULL) = (posting IS NULL)
           AND (kind NOT IN ('posting_debit', 'posting_credit') OR transaction_id IS NOT NULL)
           AND (posting IS NULL OR posting BETWEEN 0 AND 31));

-- One debit and one credit row per posting; also how a transaction's rows are found.
CREATE UNIQUE INDEX transactions_posting_leg ON transactions (transaction_id, posting, kind)
  WHERE transaction_id IS NOT NULL;

-- A transaction of POST /transactions (or a reversal): its postings as the client sees them,
-- its metadata and reference, the transaction it reverses. created_at is the time the service
-- gave it when it decided (the same in the 201 and in every later read).
CREATE TABLE ledger_transactions (
  transaction_id uuid PRIMARY KEY,
  postings       jsonb NOT NULL
    CHECK (jsonb_typeof(postings) = 'array' AND jsonb_array_length(postings) BETWEEN 1 AND 32),
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  reference      text CHECK (reference IS NULL OR length(reference) BETWEEN 1 AND 128),
  reverses       uuid,
  created_at     timestamptz NOT NULL
);
CREATE INDEX ledger_transactions_reference
  ON ledger_transactions (reference, created_at DESC, transaction_id DESC)
  WHERE reference IS NOT NULL;
CREATE INDEX ledger_transactions_metadata ON ledger_transactions USING gin (metadata jsonb_path_ops);
CREATE INDEX ledger_transactions_reverses ON ledger_transactions (reverses)
  WHERE reverses IS NOT NULL;

-- How much of a transaction has been reversed: the last guard against racing reversals. Each
-- reversal's commit adds its amount (a whole reversal of a transaction of several postings counts
-- 1 of 1); the CHECK refuses the commit that would reverse more than there is.
CREATE TABLE transaction_reversals (
  transaction_id uuid PRIMARY KEY,
  reversible     numeric NOT NULL CHECK (reversible > 0),
  reversed       numeric NOT NULL CHECK (reversed > 0),
  CONSTRAINT transaction_reversals_within CHECK (reversed <= reversible)
);

-- Across owners (SPEC.md section 7): a posting whose payee another instance serves leaves with an
-- in-transit row like a transfer's credit; it names its transaction and posting, so that the
-- credit row written on arrival does too.
ALTER TABLE transfers_in_transit
  ADD COLUMN transaction_id uuid,
  ADD COLUMN posting        smallint;

-- The `transaction` event of the ledger-events stream (SPEC.md section 8, "Events and
-- invariants"): one per transaction of POST /transactions, with its postings, metadata and
-- reference, in the outbox in the same commit as its rows (kind 'transaction', transaction_id the
-- transaction's id, body its document). Its trigger's body: functions/ledger_events.sql.
-- A row's event names the transaction of POST /transactions it belongs to (posting_of), if any.
ALTER TABLE ledger_outbox
  ADD COLUMN body       jsonb,
  ADD COLUMN posting_of uuid;
CREATE FUNCTION ledger_events_from_ledger_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;
CREATE TRIGGER ledger_events_ledger_transactions AFTER INSERT ON ledger_transactions
  REFERENCING NEW TABLE AS ledger_events_new_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_from_ledger_transactions();
