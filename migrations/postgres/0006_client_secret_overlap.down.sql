ALTER TABLE clients
  DROP COLUMN IF EXISTS previous_secret_hash,
  DROP COLUMN IF EXISTS previous_secret_expires_at;
