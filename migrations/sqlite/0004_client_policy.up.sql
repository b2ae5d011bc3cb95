-- Per-client policy (see the Postgres migration). Lists are JSON arrays of strings.
ALTER TABLE clients ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN access_ttl_seconds INTEGER NOT NULL DEFAULT 0
  CHECK (access_ttl_seconds BETWEEN 0 AND 86400);
