-- Nothing to revert (see 0011_rotate_batch.up.sql).
SELECT 1;
