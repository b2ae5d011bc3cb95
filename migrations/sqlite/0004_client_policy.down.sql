ALTER TABLE clients DROP COLUMN access_ttl_seconds;
ALTER TABLE clients DROP COLUMN audiences;
ALTER TABLE clients DROP COLUMN permissions;
