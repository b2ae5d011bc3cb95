DROP TABLE IF EXISTS authorization_codes;
ALTER TABLE clients DROP COLUMN redirect_uris;
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;
