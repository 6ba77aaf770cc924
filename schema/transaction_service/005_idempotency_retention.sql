-- Idempotency outcomes have a retention (IDEMPOTENCY_TTL, 24 h by default): the service purges
-- older ones in small batches in the background, oldest first, through this index.
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
