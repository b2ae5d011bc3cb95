ALTER TABLE clients
  DROP COLUMN IF EXISTS permissions,
  DROP COLUMN IF EXISTS audiences,
  DROP COLUMN IF EXISTS access_ttl_seconds;
