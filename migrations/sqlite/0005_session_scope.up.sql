-- The scope granted at login (see the Postgres migration).
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'openid offline_access';
