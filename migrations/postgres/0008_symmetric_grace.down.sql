-- Back to the one-sided grace check of 0002.
CREATE OR REPLACE FUNCTION authd_rotate_refresh(p_hash bytea, p_successor bytea, p_now bigint,
                                     p_grace bigint, p_idle bigint)
RETURNS TABLE (o_outcome text, o_generation bigint,
               o_id uuid, o_user_id uuid, o_client_id text, o_created_at bigint,
               o_last_used_at bigint, o_absolute_expires_at bigint, o_idle_expires_at bigint,
               o_revoked_at bigint, o_revoked_reason text, o_user_agent text, o_ip text,
               o_session_generation bigint,
               o_user_disabled boolean, o_user_roles text[], o_user_tenant text)
LANGUAGE plpgsql
AS $$
DECLARE
  v_session_id uuid;
  v_tok refresh_tokens%ROWTYPE;
  v_ses sessions%ROWTYPE;
BEGIN
  o_generation := 0;

  -- Find the family without locking, then lock session and token in the agreed order and
  -- re-read the token under the lock.
  SELECT t.session_id INTO v_session_id FROM refresh_tokens t WHERE t.hash = p_hash;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT * INTO v_ses FROM sessions s WHERE s.id = v_session_id FOR UPDATE;
  IF NOT FOUND THEN  -- purged in between
    o_outcome := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT * INTO v_tok FROM refresh_tokens t WHERE t.hash = p_hash FOR UPDATE;
  IF NOT FOUND THEN
    o_outcome := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;

  IF v_ses.revoked_at IS NOT NULL THEN
    o_outcome := 'revoked';
  ELSIF p_now >= v_ses.absolute_expires_at OR p_now >= v_ses.idle_expires_at THEN
    o_outcome := 'expired';
  ELSIF v_tok.used_at IS NULL THEN
    -- Mark first, insert second: the partial unique index allows one live token at a time.
    UPDATE refresh_tokens t SET used_at = p_now, successor_hash = p_successor
     WHERE t.hash = p_hash;
    INSERT INTO refresh_tokens (hash, session_id, generation, issued_at)
    VALUES (p_successor, v_ses.id, v_tok.generation + 1, p_now);
    UPDATE sessions s
       SET generation = v_tok.generation + 1,
           last_used_at = p_now,
           idle_expires_at = CASE
             WHEN p_idle <= 0 OR p_idle >= s.absolute_expires_at - p_now THEN s.absolute_expires_at
             ELSE p_now + p_idle END
     WHERE s.id = v_ses.id
    RETURNING * INTO v_ses;
    o_outcome := 'rotated';
    o_generation := v_tok.generation + 1;
  ELSIF p_now - v_tok.used_at <= p_grace
        AND v_tok.successor_hash = p_successor
        AND EXISTS (SELECT 1 FROM refresh_tokens t
                     WHERE t.hash = p_successor AND t.used_at IS NULL) THEN
    UPDATE sessions s SET last_used_at = GREATEST(s.last_used_at, p_now)
     WHERE s.id = v_ses.id
    RETURNING * INTO v_ses;
    o_outcome := 'grace_replay';
    o_generation := v_tok.generation + 1;
  ELSE
    -- Also when the successor has itself been rotated: the family moved on, so a replay of
    -- its ancestor is reuse even inside the grace window.
    UPDATE sessions s SET revoked_at = p_now, revoked_reason = 'reuse_detected'
     WHERE s.id = v_ses.id
    RETURNING * INTO v_ses;
    o_outcome := 'reuse_detected';
  END IF;

  o_id := v_ses.id;
  o_user_id := v_ses.user_id;
  o_client_id := v_ses.client_id;
  o_created_at := v_ses.created_at;
  o_last_used_at := v_ses.last_used_at;
  o_absolute_expires_at := v_ses.absolute_expires_at;
  o_idle_expires_at := v_ses.idle_expires_at;
  o_revoked_at := v_ses.revoked_at;
  o_revoked_reason := v_ses.revoked_reason;
  o_user_agent := v_ses.user_agent;
  o_ip := v_ses.ip;
  o_session_generation := v_ses.generation;
  -- What the caller needs of the family's user to mint the next access token, read here so
  -- that a refresh stays one round trip. The row exists: deleting a user cascades to its
  -- sessions, which waits for the session lock held here.
  SELECT u.disabled, u.roles, u.tenant_id
    INTO o_user_disabled, o_user_roles, o_user_tenant
    FROM users u WHERE u.id = v_ses.user_id;
  RETURN NEXT;
END
$$;
