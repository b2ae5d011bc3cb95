-- Secret rotation with an overlap (see the Postgres migration).
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_expires_at INTEGER NOT NULL DEFAULT 0;
