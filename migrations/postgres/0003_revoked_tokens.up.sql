-- Single access tokens revoked before their expiry (RFC 7009), by jti. Sessions have their own
-- revoked_at; this is for tokens without a session (client_credentials) and for revoking one
-- token of a session. Rows are useless after `until` (the token's exp) and purged then.
CREATE TABLE revoked_tokens (
  jti   text   PRIMARY KEY,
  until bigint NOT NULL
);
CREATE INDEX revoked_tokens_until_idx ON revoked_tokens (until);
