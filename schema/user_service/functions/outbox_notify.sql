-- outbox_notify: wakes the outbox relay at once when rows are committed, whichever user-service
-- instance wrote them: the leading relay (see try_lead_outbox) may run in another instance than
-- the handler. NOTIFY is delivered at commit and folded to one notification per transaction. Its
-- live and only definition, applied with CREATE OR REPLACE after the numbered migrations at every
-- start-up (persistence/migrations.hpp); the trigger: migration 002.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_pending', '');
  RETURN NULL;
END
$$;
