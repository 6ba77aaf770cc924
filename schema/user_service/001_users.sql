-- user_service: users and the transactional outbox. A user row and its `user-created` event are
-- written in one transaction; the OutboxRelay publishes pending rows to Kafka and stamps sent_at
-- only after the broker acknowledged them, so an event is never lost once createUser answered 201.

CREATE TABLE users (
  user_id    uuid PRIMARY KEY,
  email      text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
  -- id orders publication: the relay sends pending rows in id order.
  id           bigserial PRIMARY KEY,
  aggregate_id uuid NOT NULL,
  topic        text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz,
  attempts     integer NOT NULL DEFAULT 0
);
-- The relay's only query: pending rows in id order. Stays small however long the outbox grows.
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
