-- private_key_jwt with a JWKS URL (see the Postgres migration).
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
