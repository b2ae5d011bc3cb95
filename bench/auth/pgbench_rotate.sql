-- The rotation transaction authd runs for /refresh, driven by pgbench: each client rotates its
-- own chain; token (client, g) is sha256('client:g'), its successor (client, g+1).
SELECT o_outcome FROM authd_rotate_refresh(
  sha256(convert_to(:client_id || ':' || :g, 'UTF8')),
  sha256(convert_to(:client_id || ':' || (:g + 1), 'UTF8')),
  extract(epoch from now())::bigint, 10, 604800);
\set g :g + 1
