DROP TABLE IF EXISTS client_assertions;
ALTER TABLE clients DROP COLUMN jwk;
