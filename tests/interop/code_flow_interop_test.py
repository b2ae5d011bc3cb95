#!/usr/bin/python3
"""The authorization code flow with PKCE against `authd --dev`, by OAuth clients we did not
write, used as their documentation shows, without glue:

  --client authlib   python3-authlib: OAuth2Session(code_challenge_method='S256'),
                     create_authorization_url, fetch_token, and id_token validation with
                     authlib's JWT and CodeIDToken claims (iss, aud, exp, nonce, at_hash)
                     against the JWKS.
  --client node      node openid-client 5 (tests/interop/node, installed by scripts/deps):
                     Issuer.discover -> authorizationUrl -> callback -> userinfo.

The hosted login page, the browser's part, is driven with HTTP form posts.

  code_flow_interop_test.py --authd BIN --authctl BIN --client authlib|node [--node BIN]
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oidc_harness as h  # noqa: E402

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REDIRECT = "http://127.0.0.1:1/cb"  # never reached: the test reads the Location header


def with_authlib(issuer, client_id):
    meta, jwks = h.fetch_jwks(issuer)
    session = OAuth2Session(client_id, redirect_uri=REDIRECT,
                            scope="openid email profile offline_access",
                            code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = h.pkce_pair()[0]
    nonce = h.b64url(os.urandom(16))
    url, state = session.create_authorization_url(meta["authorization_endpoint"],
                                                  code_verifier=verifier, nonce=nonce)
    location = h.sign_in_over_http(requests.Session(), url)
    h.check(location.startswith(REDIRECT + "?"), f"redirected to {location}")
    token = session.fetch_token(meta["token_endpoint"], authorization_response=location,
                                code_verifier=verifier, state=state)
    claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks),
                        claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": issuer}},
                        claims_params={"nonce": nonce, "client_id": client_id,
                                       "access_token": token["access_token"]})
    claims.validate(leeway=5)  # aud, exp, iat, nonce, at_hash (CodeIDToken), iss
    h.check("at_hash" in claims, "no at_hash: authlib would not have checked it")
    userinfo = session.get(meta["userinfo_endpoint"]).json()
    h.check(userinfo.get("sub") == claims["sub"], f"userinfo {userinfo} vs {dict(claims)}")
    h.check(userinfo.get("email") == h.DEMO_EMAIL, str(userinfo))
    h.check("refresh_token" in token, "offline_access gave no refresh token")
    refreshed = session.refresh_token(meta["token_endpoint"])
    h.check(refreshed.get("access_token") and refreshed["access_token"] != token["access_token"],
            str(refreshed))
    # Interop the other way round: authlib sees the server's refusal of a replayed code.
    try:
        session.fetch_token(meta["token_endpoint"], authorization_response=location,
                            code_verifier=verifier, state=state)
        h.check(False, "a replayed code was accepted")
    except h.Failure:
        raise
    except Exception as exc:  # noqa: BLE001 - authlib's OAuthError
        h.check(getattr(exc, "error", "") == "invalid_grant", f"replay: {exc!r}")
    print(json.dumps({"sub": claims["sub"], "userinfo": userinfo}))


def with_node(issuer, client_id, node):
    script = os.path.join(HERE, "node", "openid_client_flow.mjs")
    h.check(os.path.isdir(os.path.join(HERE, "node", "node_modules", "openid-client")),
            "openid-client is not installed in tests/interop/node (run scripts/deps test)")
    # The client registers the algorithm of authd's signing key (see the script's header).
    alg = h.fetch_jwks(issuer)[1]["keys"][0]["alg"]
    r = subprocess.run([node, script, issuer, client_id, REDIRECT, h.DEMO_EMAIL,
                        h.DEMO_PASSWORD, alg], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    h.check(r.returncode == 0, f"openid-client failed:\n{r.stdout}{r.stderr}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    h.check(out["issuer"] == issuer, str(out))
    h.check(out["claims"]["aud"] == client_id and out["claims"]["iss"] == issuer, str(out))
    h.check(out["userinfo"].get("sub") == out["claims"]["sub"], str(out))
    h.check(out["userinfo"].get("email") == h.DEMO_EMAIL, str(out))
    h.check(out["replay"] == "invalid_grant", f"replayed code: {out['replay']}")
    print(json.dumps(out))


def main():
    args = h.parse_args(sys.argv[1:], ["authd", "authctl", "client"])
    h.check(args["client"] in ("authlib", "node"), "--client authlib|node")
    tmp = h.TempDir()
    authd = None
    client_id = "interop-" + args["client"]
    try:
        h.authctl(args["authctl"], tmp.path, [
            "client", "add", client_id, "--grants", "authorization_code,refresh_token",
            "--redirect-uris", "http://127.0.0.1/cb"])
        authd = h.Authd(args["authd"], tmp.path)
        if args["client"] == "authlib":
            with_authlib(authd.base, client_id)
        else:
            with_node(authd.base, client_id, args.get("node", "node"))
    except h.Failure:
        if authd:
            print(authd.log()[-4000:], file=sys.stderr)
        raise
    finally:
        if authd:
            authd.stop()
        tmp.remove()


if __name__ == "__main__":
    h.run(main)
