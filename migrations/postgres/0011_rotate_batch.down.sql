DROP FUNCTION IF EXISTS authd_rotate_refresh_batch(bytea[], bytea[], bigint[], bigint[], bigint[]);
