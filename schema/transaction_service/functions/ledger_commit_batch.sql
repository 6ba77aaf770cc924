-- ledger_commit_batch: the one entry point of a ledger commit given as jsonb (batches that create
-- or close holds or carry a leg of a cross-owner transfer; plain balance movements take the typed
-- ledger_commit_rows). Its live and only definition, applied with CREATE OR REPLACE after the
-- numbered migrations at every start-up (persistence/migrations.hpp).
--
-- In one statement and so one transaction:
-- - fence {instance, epochs: [{partition, epoch}]} (optional): checked by ledger_check_fence
--   before anything is written (WL005). A batch without a fence is not checked: it comes from an
--   instance that claims no ownership (PARTITION_OWNERSHIP=shared, kept correct by
--   ledger_apply_batch's conditional updates alone, or a test of the store). An instance that
--   claims ownership always sends its fence, even when it holds nothing. The payers it checks:
--   accounts whose balance the batch moves, payers of holds it creates or closes.
-- - departures: {transfer_id, from_user_id, to_user_id, amount, to_partition, and for a posting
--   of a transaction of POST /transactions transaction_id and posting}, inserted into
--   transfers_in_transit before ledger_apply_batch (which writes the debit row and may check a
--   capture against them);
-- - the batch itself: ledger_apply_batch (WL001..WL004);
-- - arrivals: {transfer_id, to_user_id, amount}, each must delete its in-transit row (WL006 if it
--   is not there, or names another payee or amount: the credit was applied already, or never
--   left).
-- plan_cache_mode: as ledger_commit_rows (issue 28).
CREATE OR REPLACE FUNCTION ledger_commit_batch(batch jsonb) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  fence   jsonb := batch -> 'fence';
  leaving jsonb := batch -> 'departures';
  landing jsonb := batch -> 'arrivals';
  claimed integer[];
  epochs  bigint[];
  payers  uuid[];
  matched integer;
BEGIN
  IF fence IS NOT NULL THEN
    SELECT coalesce(array_agg(c.partition), '{}'), coalesce(array_agg(c.epoch), '{}')
      INTO claimed, epochs
      FROM jsonb_to_recordset(coalesce(fence -> 'epochs', '[]'::jsonb))
             AS c(partition integer, epoch bigint);
    -- The accounts the batch writes: balances it moves, payers of holds it creates or closes.
    SELECT coalesce(array_agg(t.user_id), '{}') INTO payers
      FROM (SELECT a.user_id FROM jsonb_to_recordset(batch -> 'accounts') AS a(user_id uuid)
            UNION
            SELECT h.from_user_id
              FROM jsonb_to_recordset(coalesce(batch -> 'holds', '[]'::jsonb))
                     AS h(from_user_id uuid)
            UNION
            SELECT c.account_id
              FROM jsonb_to_recordset(coalesce(batch -> 'account_changes', '[]'::jsonb))
                     AS c(account_id uuid)
            UNION
            SELECT h.from_user_id
              FROM holds h
              JOIN jsonb_to_recordset(coalesce(batch -> 'hold_changes', '[]'::jsonb))
                     AS c(hold_id uuid) USING (hold_id)) t;
    PERFORM ledger_check_fence(fence ->> 'instance', claimed, epochs, payers);
  END IF;
  IF leaving IS NOT NULL THEN
    -- A credit may not leave for a closed account (its arrival could never apply). The
    -- share lock holds off a concurrent close until this commits; the close then sees the credit
    -- in transit and is refused (ledger_apply_batch, WL007).
    PERFORM 1 FROM accounts a
      JOIN jsonb_to_recordset(leaving) AS d(to_user_id uuid) ON a.account_id = d.to_user_id
       FOR SHARE OF a;
    IF EXISTS (SELECT 1 FROM accounts a
                 JOIN jsonb_to_recordset(leaving) AS d(to_user_id uuid)
                   ON a.account_id = d.to_user_id
                WHERE a.status = 'closed') THEN
      RAISE EXCEPTION 'a credit in transit names a closed account' USING ERRCODE = 'WL008';
    END IF;
    INSERT INTO transfers_in_transit (transfer_id, from_user_id, to_user_id, amount, to_partition,
                                      transaction_id, posting)
    SELECT d.transfer_id, d.from_user_id, d.to_user_id, d.amount, d.to_partition,
           d.transaction_id, d.posting
      FROM jsonb_to_recordset(leaving)
             AS d(transfer_id uuid, from_user_id uuid, to_user_id uuid, amount numeric,
                  to_partition integer, transaction_id uuid, posting smallint);
  END IF;
  PERFORM ledger_apply_batch(batch);
  IF landing IS NOT NULL THEN
    DELETE FROM transfers_in_transit m
     USING jsonb_to_recordset(landing) AS a(transfer_id uuid, to_user_id uuid, amount numeric)
     WHERE m.transfer_id = a.transfer_id AND m.to_user_id = a.to_user_id
       AND m.amount = a.amount;
    GET DIAGNOSTICS matched = ROW_COUNT;
    IF matched <> jsonb_array_length(landing) THEN
      RAISE EXCEPTION 'credit not in transit: % of % arrivals matched', matched,
        jsonb_array_length(landing) USING ERRCODE = 'WL006';
    END IF;
  END IF;
END
$$;
