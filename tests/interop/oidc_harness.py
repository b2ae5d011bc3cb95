"""Shared pieces of the browser and interop tests of the authorization code flow: a running
`authd` child process, `authctl`, PKCE, the hosted login page driven by plain HTTP form posts,
and id_token verification with authlib's JOSE against the published JWKS.

Only the standard library, python3-requests and python3-authlib (Debian packages installed by
`scripts/deps test`). A missing module is a failure with a hint, never a skip.
"""
import base64
import hashlib
import html.parser
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    import requests
    from authlib.jose import JsonWebKey, jwt
except ImportError as exc:  # pragma: no cover - environment dependent
    sys.exit(f"missing module: {exc} (install with scripts/deps test)")

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def parse_args(argv, names):
    """--name value pairs into a dict; every name in `names` is required."""
    out = {}
    it = iter(argv)
    for a in it:
        check(a.startswith("--"), f"unexpected argument {a}")
        out[a[2:]] = next(it)
    for n in names:
        check(n in out, f"--{n} is required")
    return out


class Authd:
    """One `authd` child process on a free loopback port, logging JSON to a file."""

    def __init__(self, binary, data_dir, env=None, dev=True):
        self.log_path = os.path.join(data_dir, f"authd-{secrets.token_hex(4)}.log")
        args = [binary, "--listen", "127.0.0.1:0", "--data", data_dir]
        if dev:
            args.insert(1, "--dev")
        full_env = dict(os.environ)
        full_env.update({"AUTHD_LOG_FORMAT": "json", "AUTHD_LOG_ACCESS_LOG": "false"})
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=full_env)
        self.port = self._wait_for_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def _wait_for_port(self):
        pattern = re.compile(r'"event":"server.listening","listener":"public",'
                             r'"address":"[^"]*:(\d+)"')
        for _ in range(300):  # 30 s at most (an ASan build starts slowly)
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                m = pattern.search(f.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise Failure(f"authd did not start:\n{self.log()}")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def authctl(binary, data_dir, args, env=None, dev=True):
    full_env = dict(os.environ)
    full_env.update(env or {})
    argv = [binary] + (["--dev"] if dev else []) + ["--data", data_dir] + args
    r = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=60,
                       stdin=subprocess.DEVNULL)
    check(r.returncode == 0, f"authctl {' '.join(args)} failed: {r.stdout}{r.stderr}")
    return r.stdout


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="authd-interop.")

    def remove(self):
        if not os.environ.get("AUTHD_TEST_KEEP"):
            shutil.rmtree(self.path, ignore_errors=True)


class _Forms(html.parser.HTMLParser):
    """The forms of a page: action and the value of every named input."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def forms_of(page):
    p = _Forms()
    p.feed(page)
    return p.forms


def sign_in_over_http(session, authorize_url, email=DEMO_EMAIL, password=DEMO_PASSWORD):
    """What a browser does on the hosted page, with plain HTTP: GET the authorization URL, post
    the login form (CSRF field and cookie included). Returns the redirect's Location."""
    r = session.get(authorize_url, allow_redirects=False, timeout=30)
    if r.status_code in (302, 303):
        return r.headers["Location"]
    check(r.status_code == 200, f"authorize: {r.status_code} {r.text[:300]}")
    forms = forms_of(r.text)
    check(len(forms) == 1 and "csrf" in forms[0]["fields"], f"no login form: {r.text[:500]}")
    fields = dict(forms[0]["fields"], email=email, password=password)
    action = urllib.parse.urljoin(r.url, forms[0]["action"])
    r = session.post(action, data=fields, allow_redirects=False, timeout=30)
    check(r.status_code in (302, 303), f"login: {r.status_code} {r.text[:500]}")
    return r.headers["Location"]


def fetch_jwks(issuer):
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    return meta, requests.get(meta["jwks_uri"], timeout=10).json()


def half_hash(value, alg):
    """OIDC Core §3.1.3.6 at_hash: the left half of the hash the JWS alg uses, base64url."""
    h = {"384": hashlib.sha384, "512": hashlib.sha512}.get(alg[-3:], hashlib.sha256)
    if alg == "EdDSA":
        h = hashlib.sha512
    d = h(value.encode()).digest()
    return b64url(d[: len(d) // 2])


def verify_id_token(id_token, jwks, issuer, client_id, nonce, access_token):
    """The signature against the JWKS (authlib's JOSE), then iss, aud, exp, nonce, at_hash."""
    keys = JsonWebKey.import_key_set(jwks)
    claims = jwt.decode(id_token, keys, claims_options={
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    })
    claims.validate(leeway=5)
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    check(claims.get("at_hash") == half_hash(access_token, header["alg"]),
          f"at_hash {claims.get('at_hash')} does not match the access token")
    for name in ("iat", "auth_time", "sid", "amr"):
        check(name in claims, f"id_token without {name}: {dict(claims)}")
    return dict(claims)


def run(main):
    """Runs a test's main(); prints PASS or the failure, and exits with the right status."""
    started = time.monotonic()
    try:
        main()
    except Failure as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"PASS in {time.monotonic() - started:.1f}s")
