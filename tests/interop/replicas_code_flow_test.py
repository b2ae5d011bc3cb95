#!/usr/bin/python3
"""The authorization code flow across replicas: two authd processes share the Postgres of
scripts/services (a fresh schema of AUTHD_TEST_PG_URL). The user signs in and the code is
minted on replica A; replica B redeems it (codes live in the store, hashed, not in a replica's
memory); the replay on A is refused (single use across replicas) and revokes what B issued;
userinfo answers on A for B's access token.

  replicas_code_flow_test.py --authd BIN --authctl BIN     (needs AUTHD_TEST_PG_URL)
"""
import os
import secrets
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oidc_harness as h  # noqa: E402

import requests  # noqa: E402

CLIENT = "replicas-rp"
REDIRECT = "http://127.0.0.1:1/cb"


def psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    h.check(r.returncode == 0, f"psql {sql}: {r.stderr}")
    return r.stdout.strip()


def flow(a, b, pg, schema):
    # The issuer is not either replica's address: endpoints are called on the replica chosen.
    jwks = requests.get(a.base + "/.well-known/jwks.json", timeout=10).json()
    verifier, challenge = h.pkce_pair()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    url = a.base + "/oauth2/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT,
        "scope": "openid email offline_access", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    location = h.sign_in_over_http(requests.Session(), url)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    h.check(q.get("state") == state and "code" in q, f"redirect {location}")
    # Both replicas have one issuer (the configured one), so B's tokens are A's too.
    form = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
            "client_id": CLIENT, "code_verifier": verifier}
    r = requests.post(b.base + "/oauth2/token", data=form, timeout=30)
    h.check(r.status_code == 200, f"redeem on B: {r.status_code} {r.text}")
    tokens = r.json()
    claims = h.verify_id_token(tokens["id_token"], jwks, a.issuer, CLIENT, nonce,
                               tokens["access_token"])
    u = requests.get(a.base + "/oauth2/userinfo", timeout=30,
                     headers={"Authorization": "Bearer " + tokens["access_token"]})
    h.check(u.status_code == 200 and u.json().get("sub") == claims["sub"],
            f"userinfo on A: {u.status_code} {u.text}")
    replay = requests.post(a.base + "/oauth2/token", data=form, timeout=30)
    h.check(replay.status_code == 400 and replay.json().get("error") == "invalid_grant",
            f"replay on A: {replay.status_code} {replay.text}")
    # The replicas really share Postgres (not the dev data directory's SQLite file).
    used = psql(pg, f"SELECT count(*) FROM {schema}.authorization_codes WHERE used_at IS NOT NULL")
    h.check(used == "1", f"redeemed codes in Postgres: {used}")
    refresh = requests.post(b.base + "/oauth2/token", timeout=30, data={
        "grant_type": "refresh_token", "client_id": CLIENT,
        "refresh_token": tokens["refresh_token"]})
    h.check(refresh.status_code == 400, f"refresh after the replay: {refresh.status_code}")


def main():
    args = h.parse_args(sys.argv[1:], ["authd", "authctl"])
    pg = os.environ.get("AUTHD_TEST_PG_URL", "")
    h.check(pg != "", "AUTHD_TEST_PG_URL is not set: start scripts/services (scripts/test does)")
    schema = "replicas_" + secrets.token_hex(6)
    psql(pg, f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg else "?"
    # http: the sign-in cookies go without Secure, so that requests sends them over http.
    env = {"AUTHD_STORE_DRIVER": "postgres",
           "AUTHD_STORE_URL": f"{pg}{sep}options=-csearch_path%3D{schema}",
           "AUTHD_AUTH_ISSUER": "http://auth.replicas.test"}
    tmp = h.TempDir()
    replicas = []
    try:
        h.authctl(args["authctl"], tmp.path, [
            "client", "add", CLIENT, "--grants", "authorization_code,refresh_token",
            "--redirect-uris", "http://127.0.0.1/cb"], env=env)
        for _ in range(2):  # one after the other: the first creates the shared key files
            replicas.append(h.Authd(args["authd"], tmp.path, env=env))
            replicas[-1].issuer = env["AUTHD_AUTH_ISSUER"]
        flow(*replicas, pg, schema)
    except h.Failure:
        for r in replicas:
            print(r.log()[-3000:], file=sys.stderr)
        raise
    finally:
        for r in replicas:
            r.stop()
        tmp.remove()
        psql(pg, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    h.run(main)
