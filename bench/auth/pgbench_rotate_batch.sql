-- One call of authd_rotate_refresh_batch(), as authd sends when rotations queue, driven by
-- pgbench: client c rotates chains c*b .. c*b+b-1 one generation each transaction; token
-- (n, g) is sha256('n:g'), its successor (n, g+1).
\set lo :client_id * :b
\set hi :lo + :b - 1
\set next :g + 1
SELECT count(*) FROM authd_rotate_refresh_batch(
  ARRAY(SELECT sha256(convert_to(n || ':' || :g::bigint, 'UTF8')) FROM generate_series(:lo::int, :hi::int) n),
  ARRAY(SELECT sha256(convert_to(n || ':' || :next::bigint, 'UTF8')) FROM generate_series(:lo::int, :hi::int) n),
  array_fill(extract(epoch from now())::bigint, ARRAY[:b::int]), array_fill(10::bigint, ARRAY[:b::int]),
  array_fill(604800::bigint, ARRAY[:b::int]));
\set g :g + 1
