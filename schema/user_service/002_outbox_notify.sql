-- Wakes the outbox relay at once when rows are committed, whichever user-service instance wrote
-- them: the leading relay (see try_lead_outbox) may run in another instance than the handler.
-- NOTIFY is delivered at commit and folded to one notification per transaction.
--
-- A placeholder, so that the trigger can be created: the body is functions/outbox_notify.sql,
-- applied after the numbered migrations (before anything is written).
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'placeholder: schema functions not applied'; END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
