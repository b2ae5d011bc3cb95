#!/usr/bin/python3
"""Cross-checks authd's jose module against implementations we did not write.

Used by interop_test.cpp; all inputs and outputs go through files so nothing needs quoting.
Exit status 3 means PyJWT or jwcrypto is not installed (the C++ test then skips).

  interop.py verify   ALG PUBLIC_JWK_FILE TOKEN_FILE ISS AUD   -> "pyjwt=ok|fail", "jwcrypto=ok|fail"
  interop.py sign     ALG PRIVATE_JWK_FILE CLAIMS_FILE          -> PyJWT token, jwcrypto token
  interop.py sign-pem ALG PEM_FILE KID CLAIMS_FILE              -> PyJWT token signed with the
                                                                   key `cryptography` read from PEM
  interop.py genkey   ALG                                       -> private JWK (jwcrypto), then
                                                                   jwcrypto's RFC 7638 thumbprint
  interop.py verify-jwks ALG JWKS_FILE TOKEN_FILE ISS AUD       -> as verify, the key picked by
                                                                   kid from a JWKS document
  interop.py flips    ALG JWKS_FILE TOKEN_FILE ISS AUD          -> every bit of the signature
                                                                   flipped in turn: "tried=N
                                                                   pyjwt_accepted=A jwcrypto_accepted=B"
"""
import base64
import json
import sys

try:
    import jwt  # PyJWT
    from cryptography.hazmat.primitives import serialization
    from jwcrypto import jwk as jc_jwk
    from jwcrypto import jws as jc_jws
except ImportError as exc:  # pragma: no cover - environment dependent
    print(f"missing module: {exc}", file=sys.stderr)
    sys.exit(3)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def cmd_verify(alg, jwk_file, token_file, iss, aud):
    jwk_dict = json.loads(read(jwk_file))
    token = read(token_file)
    # Time is not under test here (the C++ side pins `now`); signature, iss and aud are.
    try:
        key = jwt.PyJWK(jwk_dict, algorithm=alg).key
        jwt.decode(token, key=key, algorithms=[alg], issuer=iss, audience=aud,
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
        print("pyjwt=ok")
    except Exception as exc:  # noqa: BLE001 - report any failure as "fail"
        print(f"pyjwt=fail {type(exc).__name__}")
    try:
        s = jc_jws.JWS()
        s.deserialize(token)
        s.verify(jc_jwk.JWK(**jwk_dict), alg=alg)
        print("jwcrypto=ok")
    except Exception as exc:  # noqa: BLE001
        print(f"jwcrypto=fail {type(exc).__name__}")


def jwk_by_kid(jwks_file, token):
    """The JWKS member the token's kid names, as a resource server picks it."""
    kid = jwt.get_unverified_header(token)["kid"]
    for k in json.loads(read(jwks_file))["keys"]:
        if k.get("kid") == kid:
            return k
    raise KeyError(kid)


def verify_both(alg, jwk_dict, token, iss, aud):
    ok = []
    try:
        key = jwt.PyJWK(jwk_dict, algorithm=alg).key
        jwt.decode(token, key=key, algorithms=[alg], issuer=iss, audience=aud,
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
        ok.append("pyjwt")
    except Exception:  # noqa: BLE001
        pass
    try:
        s = jc_jws.JWS()
        s.deserialize(token)
        s.verify(jc_jwk.JWK(**jwk_dict), alg=alg)
        ok.append("jwcrypto")
    except Exception:  # noqa: BLE001
        pass
    return ok


def cmd_verify_jwks(alg, jwks_file, token_file, iss, aud):
    token = read(token_file)
    ok = verify_both(alg, jwk_by_kid(jwks_file, token), token, iss, aud)
    print("pyjwt=" + ("ok" if "pyjwt" in ok else "fail"))
    print("jwcrypto=" + ("ok" if "jwcrypto" in ok else "fail"))


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def cmd_flips(alg, jwks_file, token_file, iss, aud):
    token = read(token_file)
    jwk_dict = jwk_by_kid(jwks_file, token)
    head, payload, sig = token.split(".")
    raw = bytearray(b64d(sig))
    tried = accepted_pyjwt = accepted_jwcrypto = 0
    for bit in range(len(raw) * 8):
        raw[bit // 8] ^= 1 << (bit % 8)
        bad = ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])
        raw[bit // 8] ^= 1 << (bit % 8)
        ok = verify_both(alg, jwk_dict, bad, iss, aud)
        tried += 1
        accepted_pyjwt += "pyjwt" in ok
        accepted_jwcrypto += "jwcrypto" in ok
    print(f"tried={tried} pyjwt_accepted={accepted_pyjwt} jwcrypto_accepted={accepted_jwcrypto}")


def cmd_sign(alg, jwk_file, claims_file):
    jwk_dict = json.loads(read(jwk_file))
    claims = json.loads(read(claims_file))
    header = {"typ": "at+jwt", "kid": jwk_dict["kid"]}
    key = jwt.PyJWK(jwk_dict, algorithm=alg).key
    print(jwt.encode(claims, key, algorithm=alg, headers=header))
    s = jc_jws.JWS(json.dumps(claims).encode())
    s.add_signature(jc_jwk.JWK(**jwk_dict), alg=alg,
                    protected=json.dumps(dict(header, alg=alg)))
    print(s.serialize(compact=True))


def cmd_sign_pem(alg, pem_file, kid, claims_file):
    key = serialization.load_pem_private_key(read(pem_file).encode(), password=None)
    claims = json.loads(read(claims_file))
    print(jwt.encode(claims, key, algorithm=alg, headers={"typ": "at+jwt", "kid": kid}))


def cmd_genkey(alg):
    params = {"RS256": {"kty": "RSA", "size": 2048},
              "ES256": {"kty": "EC", "crv": "P-256"},
              "EdDSA": {"kty": "OKP", "crv": "Ed25519"}}[alg]
    key = jc_jwk.JWK.generate(**params)
    print(key.export_private())
    print(key.thumbprint())


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "verify":
        cmd_verify(*args)
    elif cmd == "sign":
        cmd_sign(*args)
    elif cmd == "sign-pem":
        cmd_sign_pem(*args)
    elif cmd == "genkey":
        cmd_genkey(*args)
    elif cmd == "verify-jwks":
        cmd_verify_jwks(*args)
    elif cmd == "flips":
        cmd_flips(*args)
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
