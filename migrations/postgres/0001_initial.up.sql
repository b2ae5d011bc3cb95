-- Identity, OAuth clients and signing keys.
-- Times are Unix seconds (bigint) everywhere: the C++ interfaces speak int64 seconds, and
-- bigint keeps INT64_MAX ("not scheduled") representable, which timestamptz is not.

CREATE TABLE users (
  id              uuid    PRIMARY KEY,
  email           text    NOT NULL,
  password_hash   text    NOT NULL,
  roles           text[]  NOT NULL DEFAULT '{}',
  tenant_id       text    NOT NULL DEFAULT '',
  disabled        boolean NOT NULL DEFAULT false,
  session_version bigint  NOT NULL DEFAULT 0,
  created_at      bigint  NOT NULL,
  updated_at      bigint  NOT NULL
);
-- Emails are stored normalised, but uniqueness is enforced case-insensitively as well so that
-- a row written by hand (or by an older build) can never shadow another account. Lookups use
-- the same expression, so this index serves them too.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE clients (
  id                    text    PRIMARY KEY,
  secret_hash           text    NOT NULL DEFAULT '',
  grant_types           text[]  NOT NULL DEFAULT '{}',
  scopes                text[]  NOT NULL DEFAULT '{}',
  allowed_origins       text[]  NOT NULL DEFAULT '{}',
  refresh_grace_seconds bigint  NOT NULL DEFAULT 10
                        CHECK (refresh_grace_seconds BETWEEN 0 AND 60),
  created_at            bigint  NOT NULL
);

-- The built-in public client used by POST /login and POST /refresh.
INSERT INTO clients (id, secret_hash, grant_types, scopes, allowed_origins,
                     refresh_grace_seconds, created_at)
VALUES ('authd', '', '{password,refresh_token}', '{}', '{}', 10,
        extract(epoch FROM now())::bigint);

CREATE TABLE signing_keys (
  kid            text   PRIMARY KEY,
  alg            text   NOT NULL,
  public_jwk     text   NOT NULL,
  sealed_private bytea  NOT NULL,
  created_at     bigint NOT NULL,
  activate_at    bigint NOT NULL,
  retire_at      bigint NOT NULL,
  remove_at      bigint NOT NULL
);
CREATE INDEX signing_keys_activate_at_idx ON signing_keys (activate_at);
