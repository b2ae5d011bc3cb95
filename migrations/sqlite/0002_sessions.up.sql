-- Sessions (= refresh-token families) and their refresh tokens (mirrors
-- migrations/postgres/0002_sessions). SQLite has no stored procedures: rotation is the same
-- algorithm in C++ inside one BEGIN IMMEDIATE transaction (src/store/sqlite).

CREATE TABLE sessions (
  id                  TEXT    PRIMARY KEY NOT NULL,
  user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id           TEXT    NOT NULL,
  created_at          INTEGER NOT NULL,
  last_used_at        INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  idle_expires_at     INTEGER NOT NULL,
  revoked_at          INTEGER,
  revoked_reason      TEXT    NOT NULL DEFAULT '',
  user_agent          TEXT    NOT NULL DEFAULT '',
  ip                  TEXT    NOT NULL DEFAULT '',
  generation          INTEGER NOT NULL DEFAULT 1,
  CHECK (idle_expires_at <= absolute_expires_at)
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_idle_expires_at_idx ON sessions (idle_expires_at);

CREATE TABLE refresh_tokens (
  hash           BLOB    PRIMARY KEY NOT NULL,
  session_id     TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  generation     INTEGER NOT NULL,
  issued_at      INTEGER NOT NULL,
  used_at        INTEGER,
  successor_hash BLOB,
  CHECK ((used_at IS NULL) = (successor_hash IS NULL))
) STRICT;
CREATE UNIQUE INDEX refresh_tokens_session_generation_key ON refresh_tokens (session_id, generation);
CREATE UNIQUE INDEX refresh_tokens_one_live_key ON refresh_tokens (session_id) WHERE used_at IS NULL;
