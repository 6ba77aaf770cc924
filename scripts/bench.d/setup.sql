-- scripts/bench: the scratch database wallet_bench gets transaction_service's own migrations first
-- (schema/transaction_service/*.sql, then functions/*.sql, so ledger_apply_batch is the
-- service's), then this file: the bench accounts and bench_transfer(), which performs what one
-- transfer costs Postgres.
--
-- What the service sends for one transfer (persistence/ledger_store.cpp, LedgerStore::apply): one
-- statement, SELECT ledger_apply_batch($1::jsonb), in its own implicit transaction, with
--   accounts: the two accounts, ordered by user_id, each {user_id, old_balance, new_balance}
--   entries:  a transfer_debit row on the payer and a transfer_credit row on the payee
--   outcomes: the idempotency row {endpoint "transferMoney", key, request_hash, 200, body}
-- so Postgres runs: a conditional UPDATE of two users rows, an INSERT of two transactions rows and
-- an INSERT of one idempotency_keys row, then commits (synchronous_commit on).
--
-- The service knows both old balances already (each account actor holds its balance in memory);
-- a SQL client does not, and ledger_apply_batch's update is conditional on them. bench_transfer()
-- therefore first locks the two rows in user_id order and reads their balances (one extra indexed
-- SELECT ... FOR UPDATE inside the same statement; locking in id order is also what keeps 64
-- concurrent clients free of deadlocks), builds the same document and calls the same function.
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
  from_row jsonb;
  to_row   jsonb;
BEGIN
  SELECT max(s.balance) FILTER (WHERE s.user_id = from_id),
         max(s.balance) FILTER (WHERE s.user_id = to_id)
    INTO from_old, to_old
    FROM (SELECT user_id, balance FROM users WHERE user_id IN (from_id, to_id)
           ORDER BY user_id FOR UPDATE) s;
  from_row := jsonb_build_object('user_id', from_id, 'old_balance', from_old::text,
                                 'new_balance', (from_old - amount)::text);
  to_row := jsonb_build_object('user_id', to_id, 'old_balance', to_old::text,
                               'new_balance', (to_old + amount)::text);
  PERFORM ledger_apply_batch(jsonb_build_object(
    'accounts', CASE WHEN from_id < to_id THEN jsonb_build_array(from_row, to_row)
                     ELSE jsonb_build_array(to_row, from_row) END,
    'entries', jsonb_build_array(
      jsonb_build_object('id', gen_random_uuid(), 'user_id', from_id,
                         'balance_change', (-amount)::text, 'old_balance', from_old::text,
                         'new_balance', (from_old - amount)::text, 'kind', 'transfer_debit',
                         'transfer_id', transfer),
      jsonb_build_object('id', gen_random_uuid(), 'user_id', to_id,
                         'balance_change', amount::text, 'old_balance', to_old::text,
                         'new_balance', (to_old + amount)::text, 'kind', 'transfer_credit',
                         'transfer_id', transfer)),
    'outcomes', jsonb_build_array(jsonb_build_object(
      'endpoint', 'transferMoney', 'key', 'bench-' || transfer::text,
      -- The service hashes the request in C++; only the stored 64 hex characters matter here.
      'request_hash', '0000000000000000000000000000000000000000000000000000000000000000',
      'status_code', 200,
      'response_body', jsonb_build_object('transfer_id', transfer, 'from_user_id', from_id,
                                          'to_user_id', to_id, 'amount', amount::text,
                                          'from_balance', (from_old - amount)::text)::text))));
END
$$;

-- Accounts 1..:accounts, rich enough that no transfer of at most 1.00 can fail during a bench.
INSERT INTO users (user_id, balance)
SELECT bench_account(n), 1000000000.00 FROM generate_series(1, :accounts) AS n;
ANALYZE users;
