DROP FUNCTION IF EXISTS authd_rotate_refresh(bytea, bytea, bigint, bigint, bigint);
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS sessions;
