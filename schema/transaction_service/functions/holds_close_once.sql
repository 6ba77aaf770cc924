-- holds_close_once: a hold is closed once (the holds table and its constraints: migration 003;
-- the trigger: there too). Capture, void and expiry racing each other have exactly one winner even
-- if a second update reached the database (WL002), and a hold's terms never change. Its live and
-- only definition, applied with CREATE OR REPLACE after the numbered migrations at every start-up
-- (persistence/migrations.hpp).
CREATE OR REPLACE FUNCTION holds_close_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' THEN
    RAISE EXCEPTION 'hold % is already %', OLD.hold_id, OLD.status USING ERRCODE = 'WL002';
  END IF;
  IF NEW.hold_id <> OLD.hold_id OR NEW.from_user_id <> OLD.from_user_id
     OR NEW.to_user_id <> OLD.to_user_id OR NEW.amount <> OLD.amount
     OR NEW.expires_at <> OLD.expires_at THEN
    RAISE EXCEPTION 'hold % terms are immutable', OLD.hold_id USING ERRCODE = 'WL002';
  END IF;
  RETURN NEW;
END
$$;
