#!/usr/bin/python3
"""Fetches client_credentials tokens from authd with python3-authlib (a client we did not
write), once per client authentication method, and prints one JSON object of outcomes.
Exit status 3 when authlib or requests is missing (the C++ test then fails with a hint).

  authlib_interop.py TOKEN_URL BASIC_ID BASIC_SECRET POST_ID POST_SECRET JWT_ID PRIVATE_JWK_FILE
"""
import json
import sys

try:
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
except ImportError as exc:  # pragma: no cover - environment dependent
    print(f"missing module: {exc}", file=sys.stderr)
    sys.exit(3)


def fetch(client_id, secret, method, **extra):
    try:
        session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method)
        token = session.fetch_token(url, grant_type="client_credentials", **extra)
        return "ok" if token.get("access_token") else f"no token: {token}"
    except Exception as exc:  # noqa: BLE001 - the outcome is what we report
        return f"error: {exc}"


url, basic_id, basic_secret, post_id, post_secret, jwt_id, jwk_file = sys.argv[1:8]
with open(jwk_file, encoding="utf-8") as f:
    private_jwk = json.load(f)
out = {
    "client_secret_basic": fetch(basic_id, basic_secret, "client_secret_basic"),
    "client_secret_post": fetch(post_id, post_secret, "client_secret_post"),
    "private_key_jwt": fetch(jwt_id, private_jwk, PrivateKeyJWT(url, alg="ES256")),
    "client_secret_basic_wrong": fetch(basic_id, basic_secret + "x", "client_secret_basic"),
}
print(json.dumps(out))
