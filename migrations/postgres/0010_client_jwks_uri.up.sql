-- private_key_jwt with keys the client publishes itself: the https URL of its JWK Set, which
-- authd fetches and caches (never together with an inline jwk).
ALTER TABLE clients ADD COLUMN jwks_uri text NOT NULL DEFAULT '';
