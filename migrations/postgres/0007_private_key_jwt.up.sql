-- private_key_jwt (RFC 7523): a client's registered public JWK, and the client assertions
-- already used (key = client id and jti), kept until the assertion's expiry so that none is
-- accepted twice on any replica.
ALTER TABLE clients ADD COLUMN jwk text NOT NULL DEFAULT '';
CREATE TABLE client_assertions (
  key   text   PRIMARY KEY,
  until bigint NOT NULL
);
CREATE INDEX client_assertions_until_idx ON client_assertions (until);
