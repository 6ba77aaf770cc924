-- scripts/bench --commit-cost (scripts/bench.d/commit-cost.sh): what Postgres spends inside one
-- group commit per transfer and per payment with a fee, apart from everything around it.
--
-- bench_batch(k, payments, dry) builds the typed arrays of one batch of k operations as the service
-- sends them (persistence/ledger_batch.cpp): k transfers (two rows, two accounts, an idempotency
-- row) or k payments with a fee (two postings from one payer: four rows, three accounts, the
-- ledger_transactions record, the idempotency row with the 201 body), each operation on accounts
-- of its own, from the balances in the table; then calls ledger_commit_rows with them, unless
-- `dry` (building the arrays only: the difference is the function's cost).
CREATE OR REPLACE FUNCTION bench_account(n integer) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION bench_batch(k integer, payments boolean, dry boolean) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
  accts uuid[] := '{}'; olds numeric[] := '{}'; news numeric[] := '{}';
  e_ids uuid[] := '{}'; e_acc uuid[] := '{}'; e_chg numeric[] := '{}'; e_old numeric[] := '{}';
  e_new numeric[] := '{}'; e_kind text[] := '{}'; e_tr uuid[] := '{}'; e_tx uuid[] := '{}';
  e_post smallint[] := '{}'; o_ep text[] := '{}'; o_key text[] := '{}'; o_hash text[] := '{}';
  o_st integer[] := '{}'; o_body text[] := '{}';
  t_ids uuid[] := '{}'; t_post jsonb[] := '{}'; t_meta jsonb[] := '{}'; t_ref text[] := '{}';
  t_time timestamptz[] := '{}';
  bal jsonb := '{}'; i integer; a uuid; b uuid; c uuid; tx uuid; amt numeric := 0.50; fee numeric := 0.01;
  r record; cur numeric;
BEGIN
  -- accounts 3i+1 .. 3i+3 per operation: distinct accounts, like a batch of uniform operations
  FOR i IN 0..k-1 LOOP
    a := bench_account(3*i+1); b := bench_account(3*i+2); c := bench_account(3*i+3); tx := gen_random_uuid();
    e_ids := e_ids || gen_random_uuid() || gen_random_uuid();
    e_acc := e_acc || a || b; e_chg := e_chg || -amt || amt;
    IF payments THEN
      e_ids := e_ids || gen_random_uuid() || gen_random_uuid(); e_acc := e_acc || a || c;
      e_chg := e_chg || -fee || fee;
      e_kind := e_kind || '{posting_debit,posting_credit,posting_debit,posting_credit}'::text[];
      e_tr := e_tr || NULL::uuid || NULL::uuid || NULL::uuid || NULL::uuid;
      e_tx := e_tx || tx || tx || tx || tx; e_post := e_post || 0::smallint || 0::smallint || 1::smallint || 1::smallint;
      t_ids := t_ids || tx;
      t_post := t_post || jsonb_build_array(jsonb_build_object('from', a, 'to', b, 'amount', '0.50', 'currency', 'USD'),
                                            jsonb_build_object('from', a, 'to', c, 'amount', '0.01', 'currency', 'USD'));
      t_meta := t_meta || '{}'::jsonb; t_ref := t_ref || NULL::text; t_time := t_time || now();
      o_ep := o_ep || 'transactions'::text; o_st := o_st || 201;
      o_body := o_body || ('{"created_at":"2026-12-07T15:19:16.448037Z","metadata":{},"postings":' || t_post[i+1]::text || ',"reference":null,"transaction_id":"' || tx || '"}');
    ELSE
      e_kind := e_kind || '{transfer_debit,transfer_credit}'::text[]; e_tr := e_tr || tx || tx;
      o_ep := o_ep || 'transferMoney'::text; o_st := o_st || 200;
      o_body := o_body || ('{"transfer_id":"' || tx || '","from_user_id":"' || a || '","to_user_id":"' || b || '","amount":"0.50","from_balance":"999.50"}');
    END IF;
    o_key := o_key || ('bench-' || tx::text); o_hash := o_hash || repeat('0', 64);
  END LOOP;
  -- balances: old from the table, new = old + net change; entries' old/new chained
  FOR r IN SELECT x.acc, sum(x.chg) AS net FROM unnest(e_acc, e_chg) AS x(acc, chg) GROUP BY x.acc ORDER BY x.acc LOOP
    SELECT balance INTO cur FROM accounts WHERE account_id = r.acc;
    accts := accts || r.acc; olds := olds || cur; news := news || (cur + r.net);
    bal := bal || jsonb_build_object(r.acc::text, cur);
  END LOOP;
  FOR i IN 1..cardinality(e_acc) LOOP
    cur := (bal ->> e_acc[i]::text)::numeric;
    e_old := e_old || cur; e_new := e_new || (cur + e_chg[i]);
    bal := bal || jsonb_build_object(e_acc[i]::text, cur + e_chg[i]);
  END LOOP;
  IF dry THEN RETURN; END IF;
  IF payments THEN
    PERFORM ledger_commit_rows('', '{}', '{}', accts, olds, news, e_ids, e_acc, e_chg, e_old, e_new, e_kind,
      e_tr, o_ep, o_key, o_hash, o_st, o_body, e_tx, e_post, t_ids, t_post, t_meta, t_ref, t_time);
  ELSE
    PERFORM ledger_commit_rows('', '{}', '{}', accts, olds, news, e_ids, e_acc, e_chg, e_old, e_new, e_kind,
      e_tr, o_ep, o_key, o_hash, o_st, o_body);
  END IF;
END
$f$;
