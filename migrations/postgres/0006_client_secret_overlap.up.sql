-- Secret rotation with an overlap: the previous secret keeps working until
-- previous_secret_expires_at (Unix seconds), so a client fleet can switch without downtime.
ALTER TABLE clients
  ADD COLUMN previous_secret_hash       text   NOT NULL DEFAULT '',
  ADD COLUMN previous_secret_expires_at bigint NOT NULL DEFAULT 0;
