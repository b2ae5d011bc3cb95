-- The scope granted at login, so that a refresh can narrow it but never widen it (RFC 6749
-- §6). Sessions opened before this migration were all granted authd's fixed session scope.
ALTER TABLE sessions ADD COLUMN scope text NOT NULL DEFAULT 'openid offline_access';
