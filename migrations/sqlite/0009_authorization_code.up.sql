-- The authorization code flow (see the Postgres migration). Lists are JSON arrays of strings.
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
CREATE TABLE authorization_codes (
  hash               BLOB    PRIMARY KEY NOT NULL,
  client_id          TEXT    NOT NULL,
  user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri       TEXT    NOT NULL,
  code_challenge     TEXT    NOT NULL,
  scope              TEXT    NOT NULL DEFAULT '',
  nonce              TEXT    NOT NULL DEFAULT '',
  browser_session_id TEXT    NOT NULL DEFAULT '',
  auth_time          INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,
  used_at            INTEGER,
  session_id         TEXT
) STRICT;
CREATE INDEX authorization_codes_browser_idx ON authorization_codes (browser_session_id)
  WHERE session_id IS NOT NULL;
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);
