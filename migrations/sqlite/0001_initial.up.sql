-- Identity, OAuth clients and signing keys (mirrors migrations/postgres/0001_initial).
-- STRICT tables make SQLite reject a value of the wrong type instead of storing it.
-- Times are Unix seconds; UUIDs are canonical text; lists are JSON arrays of strings.

CREATE TABLE users (
  id              TEXT    PRIMARY KEY NOT NULL,
  -- NOCASE makes uniqueness and lookups case-insensitive (ASCII), as lower(email) does in
  -- Postgres.
  email           TEXT    NOT NULL COLLATE NOCASE UNIQUE,
  password_hash   TEXT    NOT NULL,
  roles           TEXT    NOT NULL DEFAULT '[]',
  tenant_id       TEXT    NOT NULL DEFAULT '',
  disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  session_version INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
  id                    TEXT    PRIMARY KEY NOT NULL,
  secret_hash           TEXT    NOT NULL DEFAULT '',
  grant_types           TEXT    NOT NULL DEFAULT '[]',
  scopes                TEXT    NOT NULL DEFAULT '[]',
  allowed_origins       TEXT    NOT NULL DEFAULT '[]',
  refresh_grace_seconds INTEGER NOT NULL DEFAULT 10
                        CHECK (refresh_grace_seconds BETWEEN 0 AND 60),
  created_at            INTEGER NOT NULL
) STRICT;

-- The built-in public client used by POST /login and POST /refresh.
INSERT INTO clients (id, secret_hash, grant_types, scopes, allowed_origins,
                     refresh_grace_seconds, created_at)
VALUES ('authd', '', '["password","refresh_token"]', '[]', '[]', 10, unixepoch());

CREATE TABLE signing_keys (
  kid            TEXT    PRIMARY KEY NOT NULL,
  alg            TEXT    NOT NULL,
  public_jwk     TEXT    NOT NULL,
  sealed_private BLOB    NOT NULL,
  created_at     INTEGER NOT NULL,
  activate_at    INTEGER NOT NULL,
  retire_at      INTEGER NOT NULL,
  remove_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX signing_keys_activate_at_idx ON signing_keys (activate_at);
