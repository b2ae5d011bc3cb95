-- Single access tokens revoked before their expiry, by jti (see the Postgres migration).
CREATE TABLE revoked_tokens (
  jti   TEXT    PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_until_idx ON revoked_tokens (until);
