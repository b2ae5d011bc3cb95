-- Per-client policy. `permissions` grants what is not a grant type ("introspect": may ask
-- /oauth2/introspect); `audiences` are the resource servers (RFC 8707) the client may ask
-- tokens for, besides the server's default audience; `access_ttl_seconds` overrides
-- auth.access_ttl for the client's access tokens (0 = the server's).
ALTER TABLE clients
  ADD COLUMN permissions        text[] NOT NULL DEFAULT '{}',
  ADD COLUMN audiences          text[] NOT NULL DEFAULT '{}',
  ADD COLUMN access_ttl_seconds bigint NOT NULL DEFAULT 0
                                CHECK (access_ttl_seconds BETWEEN 0 AND 86400);
