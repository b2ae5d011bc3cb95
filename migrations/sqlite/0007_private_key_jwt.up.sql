-- private_key_jwt (see the Postgres migration).
ALTER TABLE clients ADD COLUMN jwk TEXT NOT NULL DEFAULT '';
CREATE TABLE client_assertions (
  key   TEXT    PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX client_assertions_until_idx ON client_assertions (until);
