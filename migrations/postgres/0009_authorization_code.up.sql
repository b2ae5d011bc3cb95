-- The authorization code flow (RFC 6749 §4.1, PKCE RFC 7636, OpenID Connect).
-- Clients register where a code may be sent (redirect_uris, matched exactly; loopback ports
-- are free for native apps, RFC 8252 §7.3) and where RP-initiated logout may return.
ALTER TABLE clients
  ADD COLUMN redirect_uris             text[] NOT NULL DEFAULT '{}',
  ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}';

-- Codes are stored only as keyed hashes, bound to client, redirect URI and PKCE challenge,
-- and live 60 s at most. Redemption marks used_at and records the family (session_id) the
-- code was exchanged for in one statement, so a second presentation, on any replica, finds
-- that family and revokes it (RFC 6749 §4.1.2). browser_session_id is the authd sign-in the
-- code was issued under; RP-initiated logout ends the families found through it, so a row
-- is kept (purged) only while its family exists.
CREATE TABLE authorization_codes (
  hash               bytea  PRIMARY KEY,
  client_id          text   NOT NULL,
  user_id            uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri       text   NOT NULL,
  code_challenge     text   NOT NULL,
  scope              text   NOT NULL DEFAULT '',
  nonce              text   NOT NULL DEFAULT '',
  browser_session_id text   NOT NULL DEFAULT '',
  auth_time          bigint NOT NULL,
  expires_at         bigint NOT NULL,
  used_at            bigint,
  session_id         text
);
CREATE INDEX authorization_codes_browser_idx ON authorization_codes (browser_session_id)
  WHERE session_id IS NOT NULL;
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);
