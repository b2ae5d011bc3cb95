-- Version 12 in step with Postgres, whose 0012 rotates the common calls of a batch as sets:
-- SQLite has no batch form.
SELECT 1;
