-- Back to 0011's batch, which runs every call through authd_rotate_refresh().
CREATE OR REPLACE FUNCTION authd_rotate_refresh_batch(p_hashes bytea[], p_successors bytea[],
                                                      p_nows bigint[], p_graces bigint[],
                                                      p_idles bigint[])
RETURNS TABLE (o_outcome text, o_generation bigint,
               o_id uuid, o_user_id uuid, o_client_id text, o_created_at bigint,
               o_last_used_at bigint, o_absolute_expires_at bigint, o_idle_expires_at bigint,
               o_revoked_at bigint, o_revoked_reason text, o_user_agent text, o_ip text,
               o_session_generation bigint,
               o_user_disabled boolean, o_user_roles text[], o_user_tenant text,
               o_index integer)
LANGUAGE plpgsql
AS $$
DECLARE
  v_family uuid;
BEGIN
  IF cardinality(p_successors) <> cardinality(p_hashes)
     OR cardinality(p_nows) <> cardinality(p_hashes)
     OR cardinality(p_graces) <> cardinality(p_hashes)
     OR cardinality(p_idles) <> cardinality(p_hashes) THEN
    RAISE EXCEPTION 'authd_rotate_refresh_batch: arrays of different lengths'
      USING ERRCODE = '22023';
  END IF;
  -- One family at a time, by primary key: a set-based lock (`id IN (SELECT ...)`) is planned,
  -- on a small table, as a scan of every session, which under the update churn of rotations
  -- reads more dead row versions with every batch.
  FOR v_family IN SELECT DISTINCT t.session_id
                    FROM unnest(p_hashes) AS h (hash)
                    JOIN refresh_tokens t ON t.hash = h.hash
                   ORDER BY 1 LOOP
    PERFORM 1 FROM sessions s WHERE s.id = v_family FOR UPDATE;
  END LOOP;
  FOR i IN 1 .. cardinality(p_hashes) LOOP
    RETURN QUERY SELECT r.*, i
                   FROM authd_rotate_refresh(p_hashes[i], p_successors[i], p_nows[i],
                                             p_graces[i], p_idles[i]) r;
  END LOOP;
END
$$;
