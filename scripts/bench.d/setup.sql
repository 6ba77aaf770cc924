-- scripts/bench: the scratch database wallet_bench gets transaction_service's own migrations first
-- (schema/transaction_service/*.sql, then functions/*.sql, so ledger_apply_batch is the
-- service's), then this file: the bench accounts and bench_transfer(), which performs what one
-- transfer costs Postgres.
--
-- What the service sends for one transfer (persistence/ledger_store.cpp, LedgerStore::commit):
-- one prepared statement, SELECT ledger_commit_rows(...), typed arrays one per column, in its own
-- implicit transaction, with
--   fence:    none here ('' and empty arrays: one instance; the service passes its fence only when
--             several instances own partitions)
--   accounts: the two accounts, ordered by account_id, each with old and new balance
--   entries:  a transfer_debit row on the payer and a transfer_credit row on the payee
--   outcomes: the idempotency row {endpoint "transferMoney", key, request_hash, 200, body}
-- so Postgres runs: a conditional UPDATE of two accounts rows, an INSERT of two transactions rows
-- (and their outbox rows through the statement trigger), an INSERT of one idempotency_keys row,
-- the holds check of the debited account, then commits (synchronous_commit on).
--
-- The service knows both old balances already (each account actor holds its balance in memory);
-- a SQL client does not, and the update is conditional on them. bench_transfer() therefore first
-- locks the two rows in account_id order and reads their balances (one extra indexed SELECT ...
-- FOR UPDATE inside the same statement; locking in id order is also what keeps 64 concurrent
-- clients free of deadlocks), then calls the same function with the same arrays.
-- One pgbench transaction = one round trip = one commit = one transfer, as in the service when a
-- group-commit batch holds a single transfer. The service may put several transfers in one batch
-- (one commit for many); that advantage is the service's to show, so pgbench does not batch.

CREATE FUNCTION bench_account(n integer) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
$$;

CREATE FUNCTION bench_transfer(a integer, b integer, cents bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  from_id  uuid := bench_account(a);
  to_id    uuid := bench_account(b);
  amount   numeric(20,2) := cents / 100.0;
  transfer uuid := gen_random_uuid();
  from_old numeric(20,2);
  to_old   numeric(20,2);
  low      uuid := least(from_id, to_id);
  high     uuid := greatest(from_id, to_id);
BEGIN
  SELECT max(s.balance) FILTER (WHERE s.account_id = from_id),
         max(s.balance) FILTER (WHERE s.account_id = to_id)
    INTO from_old, to_old
    FROM (SELECT account_id, balance FROM accounts WHERE account_id IN (from_id, to_id)
           ORDER BY account_id FOR UPDATE) s;
  PERFORM ledger_commit_rows(
    '', '{}'::integer[], '{}'::bigint[],
    ARRAY[low, high],
    CASE WHEN low = from_id THEN ARRAY[from_old, to_old] ELSE ARRAY[to_old, from_old] END,
    CASE WHEN low = from_id THEN ARRAY[from_old - amount, to_old + amount]
         ELSE ARRAY[to_old + amount, from_old - amount] END,
    ARRAY[gen_random_uuid(), gen_random_uuid()], ARRAY[from_id, to_id], ARRAY[-amount, amount],
    ARRAY[from_old, to_old], ARRAY[from_old - amount, to_old + amount],
    ARRAY['transfer_debit', 'transfer_credit'], ARRAY[transfer, transfer],
    ARRAY['transferMoney'], ARRAY['bench-' || transfer::text],
    -- The service hashes the request in C++; only the stored 64 hex characters matter here.
    ARRAY['0000000000000000000000000000000000000000000000000000000000000000'], ARRAY[200],
    ARRAY[jsonb_build_object('transfer_id', transfer, 'from_user_id', from_id,
                             'to_user_id', to_id, 'amount', amount::text,
                             'from_balance', (from_old - amount)::text)::text]);
END
$$;

-- Accounts 1..:accounts, rich enough that no transfer of at most 1.00 can fail during a bench.
INSERT INTO users (user_id, balance)
SELECT bench_account(n), 1000000000.00 FROM generate_series(1, :accounts) AS n;
ANALYZE accounts;
