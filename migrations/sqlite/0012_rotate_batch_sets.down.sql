-- Nothing to revert (see 0012_rotate_batch_sets.up.sql).
SELECT 1;
