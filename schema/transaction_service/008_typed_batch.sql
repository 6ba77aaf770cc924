-- What Postgres spends per transfer in the service's path (issue 14).
--
-- 1. The batch as typed arrays. A group commit of deposits, transfers and withdrawals (the batches
--    the ledger writer sends almost always) goes through ledger_commit_rows: one parameter per
--    column, each a typed array the server parses with the column type's own input function, and
--    unnest() turns them back into rows. Batches that create or close holds or carry a leg of a
--    cross-owner transfer still go through ledger_commit_batch(jsonb), which is unchanged in what
--    it checks and writes. Both share the fence (ledger_check_fence, the one copy of it).
--    Measured (issue 14): Postgres executes a batch in the same time either way, its cost is the
--    per-row work; the service no longer builds a JSON tree per commit.
--
-- 2. One index less per ledger row: transactions.seq had a unique index of its own (001), which no
--    query uses (history reads (user_id, seq) through transactions_user_seq) and which an identity
--    column does not need for uniqueness (GENERATED ALWAYS: no client supplies it).

ALTER TABLE transactions DROP CONSTRAINT transactions_seq_key;

-- ledger_commit_rows (the typed batch) and ledger_check_fence (the fence both entry points share)
-- are in functions/, applied after the numbered migrations.
