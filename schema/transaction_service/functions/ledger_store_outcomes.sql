-- ledger_store_outcomes: the idempotency outcomes of a commit, stored by ledger_commit_rows and
-- ledger_apply_batch inside their transaction (never called by the service directly). Its live and
-- only definition, applied with CREATE OR REPLACE after the numbered migrations at every start-up
-- (persistence/migrations.hpp).
--
-- Each outcome goes under a key that holds no live outcome (issue 28: the service no longer looks
-- a new key up before running it). An expired one (older than the session's
-- wallet.idempotency_ttl_s, which the writer's connection sets, and not purged yet) is replaced: a
-- key reused after its retention is a new operation. A live one refuses the whole commit (WL011):
-- the writer answers that request with the stored outcome and commits the rest. Unset TTL:
-- outcomes never expire here. The arrays are index-aligned, one element per outcome.
CREATE OR REPLACE FUNCTION ledger_store_outcomes(endpoints text[], keys text[], hashes text[],
                                                 statuses integer[], bodies text[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  ttl_s  integer := nullif(current_setting('wallet.idempotency_ttl_s', true), '')::integer;
  stored integer;
BEGIN
  WITH written AS (
    INSERT INTO idempotency_keys AS i (endpoint, key, request_hash, status_code, response_body)
    SELECT * FROM unnest(endpoints, keys, hashes, statuses, bodies)
    ON CONFLICT (endpoint, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
           response_body = EXCLUDED.response_body, created_at = now()
     WHERE i.created_at <= now() - make_interval(secs => ttl_s)
    RETURNING 1)
  SELECT count(*) INTO stored FROM written;
  IF stored <> cardinality(keys) THEN
    RAISE EXCEPTION 'an idempotency key is already stored: % of % outcomes new', stored,
      cardinality(keys) USING ERRCODE = 'WL011';
  END IF;
END
$$;
