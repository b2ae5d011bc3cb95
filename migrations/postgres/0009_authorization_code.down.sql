DROP TABLE IF EXISTS authorization_codes;
ALTER TABLE clients DROP COLUMN IF EXISTS redirect_uris,
                    DROP COLUMN IF EXISTS post_logout_redirect_uris;
