-- Version 11 in step with Postgres, whose 0011 adds authd_rotate_refresh_batch(): SQLite
-- rotates one family at a time in-process and needs no batch form.
SELECT 1;
