#!/usr/bin/env python3
"""Regenerates tests/vectors/jwt.json with PyJWT, and checks every row against simplejwt itself.

Optional and never run by the build: the JSON is committed, and the Rust and JavaScript tests read it.
To regenerate (any Python >= 3.10):

    python3 -m venv /tmp/pyjwt
    /tmp/pyjwt/bin/pip install pyjwt cryptography django djangorestframework \
        djangorestframework-simplejwt freezegun
    /tmp/pyjwt/bin/python tests/vectors/gen_jwt.py

The output is reproducible: a fixed HS256 secret, asymmetric keys derived from fixed seeds, fixed claims
and jti, and RFC 6979 deterministic ECDSA. Each row's `expect` is Latchkey's verdict; the script asserts
that simplejwt (`Token(token)` + `JWTStatelessUserAuthentication.get_user`, clock frozen at `now`) gives
the same message, except in rows carrying a `deviation`, where simplejwt's verdict is recorded instead.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import warnings
from datetime import datetime, timedelta, timezone

import django
from django.conf import settings

settings.configure(
    SECRET_KEY="unused",
    USE_TZ=True,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "rest_framework_simplejwt"],
)
django.setup()

import jwt  # noqa: E402

# The HS512 row signs with the HS256 test secret on purpose.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, utils  # noqa: E402
from freezegun import freeze_time  # noqa: E402
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication  # noqa: E402
from rest_framework_simplejwt.backends import TokenBackend  # noqa: E402
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError  # noqa: E402
from rest_framework_simplejwt.tokens import Token, UntypedToken  # noqa: E402

OUT = pathlib.Path(__file__).with_name("jwt.json")
NOW = 1_700_000_000
SECRET = "latchkey-test-vectors-hs256-secret-not-for-production"
JTI = "0123456789abcdef0123456789abcdef"
DROP = object()


def seed(label: str) -> int:
    return int.from_bytes(hashlib.sha512(b"latchkey test key: " + label.encode()).digest(), "big")


def next_prime(n: int) -> int:
    """Deterministic Miller-Rabin (fixed bases) over odd candidates from n: test keys only."""

    def probable_prime(m: int) -> bool:
        d, r = m - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53):
            x = pow(a, d, m)
            if x in (1, m - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, m)
                if x == m - 1:
                    break
            else:
                return False
        return True

    n |= 1
    while not (probable_prime(n) and (n - 1) % 65537 != 0):
        n += 2
    return n


def rsa_key():
    top = 1 << 1023 | 1 << 1022  # both primes 1024 bits with the top two set: n is 2048 bits
    p = next_prime(top | seed("rsa p") % (1 << 1022))
    q = next_prime(top | seed("rsa q") % (1 << 1022))
    e, n = 65537, p * q
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, n)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


KEYS = {
    "EdDSA": ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"latchkey ed25519").digest()),
    "RS256": rsa_key(),
    "ES256": ec.derive_private_key(seed("p256") % (2**255), ec.SECP256R1()),
}


def pems(key):
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(token_type="access", **changes):
    """simplejwt's payload order: token_type, exp, iat, jti, user_id, custom claims, aud, iss."""
    payload = {"token_type": token_type, "exp": NOW + 300, "iat": NOW, "jti": JTI, "user_id": "42"}
    for key, value in dict(changes, token_type=token_type).items():
        if value is DROP:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


def thumbprint(algorithm):
    """The RFC 7638 JWK thumbprint of KEYS[algorithm]'s public key: the `kid` Latchkey writes."""
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(KEYS[algorithm].public_key(), as_dict=True)
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    members = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(members.encode()).digest())


def sign(payload, algorithm="HS256", key=SECRET, headers=None):
    if algorithm == "ES256":  # PyJWT's ECDSA is randomized; RFC 6979 makes the file reproducible
        header = dict({"alg": "ES256", "typ": "JWT"}, **(headers or {}))  # PyJWT sorts header keys
        signing_input = f"{b64(json.dumps(header, separators=(',', ':'), sort_keys=True).encode())}.{b64(json.dumps(payload, separators=(',', ':')).encode())}"
        der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = utils.decode_dss_signature(der)
        return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def hmac_forged(payload, secret: bytes, header=None):
    """What PyJWT refuses to produce: an HS256 token keyed with arbitrary bytes (e.g. a public key)."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header, separators=(',', ':')).encode())}.{b64(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def unsigned(header, payload_text):
    return f"{b64(json.dumps(header, separators=(',', ':')).encode())}.{b64(payload_text.encode())}.c2ln"


def row(name, token, expect="ok", *, payload=None, algorithm="HS256", now=NOW, expected_type="access",
        iss=None, aud=None, encode_matches=False, decode="ok", deviation=None):
    entry = {"name": name, "algorithm": algorithm, "token": token, "now": now, "expected_type": expected_type,
             "iss": iss, "aud": aud, "expect": expect, "decode": decode}
    exp = (payload or {}).get("exp")
    entry["seconds_left"] = exp - now if decode == "ok" and isinstance(exp, int) else None
    if expect == "ok":
        entry["claims"] = dict(payload, user_id=str(payload["user_id"]))
        entry["encode_matches"] = encode_matches
    if deviation:
        entry["deviation"] = deviation
    return entry


def simplejwt_verdict(entry, public_pems):
    algorithm = entry["algorithm"]
    signing = SECRET if algorithm == "HS256" else KEYS[algorithm]
    verifying = "" if algorithm == "HS256" else public_pems[algorithm]
    backend = TokenBackend(algorithm, signing, verifying, audience=entry["aud"], issuer=entry["iss"])
    base = UntypedToken if entry["expected_type"] is None else Token
    kind = type("Checked", (base,), {"_token_backend": backend, "lifetime": timedelta(minutes=5)})
    if entry["expected_type"] is not None:
        kind.token_type = entry["expected_type"]
    with freeze_time(datetime.fromtimestamp(entry["now"], tz=timezone.utc)):
        try:
            token = kind(entry["token"])
            JWTStatelessUserAuthentication().get_user(token)
        except TokenError as error:
            return str(error.args[0])
        except InvalidToken as error:
            return str(error.detail["detail"])
    return "ok"


def kid(algorithm):
    return {"kid": thumbprint(algorithm)}


def rows(public_pems):
    access = claims()
    refresh = claims("refresh", exp=NOW + 86400, email="ada@example.com", is_staff=True, mfa=True,
                     org="acme", roles=["admin", "billing"])
    with_iss_aud = claims(aud="web", iss="latchkey")
    valid = sign(access)
    sig_start = valid.rindex(".") + 1
    tampered = valid[: sig_start + 5] + ("A" if valid[sig_start + 5] != "A" else "B") + valid[sig_start + 6 :]
    loose_bits = valid[:-1] + chr(ord(valid[-1]) + 1)  # same bytes to a lenient decoder; PyJWT >= 2.12 refuses it too
    long_token = sign(claims(padding="x" * 8200))
    return [
        row("valid_access", valid, payload=access, encode_matches=True),
        row("valid_refresh_with_custom_claims", sign(refresh), payload=refresh, expected_type="refresh",
            encode_matches=True),
        row("one_second_before_exp", valid, payload=access, now=NOW + 299),
        row("expired_at_exactly_exp", valid, "Token is expired", payload=access, now=NOW + 300),
        row("expired_long_ago", valid, "Token is expired", payload=access, now=NOW + 86400),
        row("refresh_used_as_access", sign(refresh), "Token has wrong type", payload=refresh),
        row("access_used_as_refresh", valid, "Token has wrong type", payload=access, expected_type="refresh"),
        row("untyped_accepts_refresh", sign(refresh), payload=refresh, expected_type=None),
        row("bad_signature", tampered, "Token is invalid", payload=access),
        row("other_secret", sign(access, key=SECRET + "!"), "Token is invalid", payload=access),
        row("alg_none", jwt.encode(access, None, algorithm="none"), "Token is invalid", payload=access),
        row("alg_hs512_when_hs256_configured", sign(access, "HS512"), "Token is invalid", payload=access),
        row("user_id_as_number", sign(claims(user_id=42)), payload=claims(user_id=42)),
        row("uuid_user_id", sign(claims(user_id="7c9e6679-7425-40de-944b-e07fc1f90ae7")),
            payload=claims(user_id="7c9e6679-7425-40de-944b-e07fc1f90ae7"), encode_matches=True),
        row("iat_in_future", sign(claims(iat=NOW + 1)), "Token is invalid", payload=claims(iat=NOW + 1)),
        row("nbf_in_future", sign(claims(nbf=NOW + 60)), "Token is invalid", payload=claims(nbf=NOW + 60)),
        row("future_iat_beats_expiry", sign(claims(iat=NOW + 1, exp=NOW - 1)), "Token is invalid",
            payload=claims(iat=NOW + 1, exp=NOW - 1)),
        row("no_exp", sign(claims(exp=DROP)), "Token has no 'exp' claim", payload=claims(exp=DROP)),
        row("no_jti", sign(claims(jti=DROP)), "Token has no id", payload=claims(jti=DROP)),
        row("no_token_type", sign(claims(token_type=DROP)), "Token has no type", payload=claims(token_type=DROP)),
        row("no_user_id", sign(claims(user_id=DROP)), "Token contained no recognizable user identification",
            payload=claims(user_id=DROP)),
        row("sliding_type", sign(claims("sliding")), "Token has wrong type", payload=claims("sliding")),
        row("jti_not_a_string", sign(claims(jti=5)), "Token is invalid", payload=claims(jti=5)),
        row("iss_aud_configured_and_matching", sign(with_iss_aud), payload=with_iss_aud, iss="latchkey",
            aud="web", encode_matches=True),
        row("aud_list_containing_expected", sign(claims(aud=["app", "web"])), payload=claims(aud=["app", "web"]),
            aud="web"),
        row("aud_mismatch", sign(with_iss_aud), "Token is invalid", payload=with_iss_aud, aud="app"),
        row("iss_mismatch", sign(with_iss_aud), "Token is invalid", payload=with_iss_aud, iss="someone-else"),
        row("iss_required_but_absent", valid, "Token is invalid", payload=access, iss="latchkey"),
        row("iss_aud_ignored_when_not_configured", sign(with_iss_aud), payload=with_iss_aud, encode_matches=True),
        row("kid_and_typ_headers_ignored", sign(access, headers={"kid": "k1", "typ": "at+jwt"}), payload=access),
        row("unknown_crit_header", sign(access, headers={"crit": ["exp"], "exp": 1}), "Token is invalid",
            payload=access),
        # Latchkey's asymmetric tokens name their key: PyJWT's `headers={"kid": <RFC 7638 thumbprint>}`.
        row("eddsa_valid", sign(access, "EdDSA", KEYS["EdDSA"], kid("EdDSA")), payload=access,
            algorithm="EdDSA", encode_matches=True),
        row("rs256_valid", sign(access, "RS256", KEYS["RS256"], kid("RS256")), payload=access,
            algorithm="RS256", encode_matches=True),
        row("es256_valid", sign(access, "ES256", KEYS["ES256"], kid("ES256")), payload=access,
            algorithm="ES256", encode_matches=True),
        # Without `kid`: simplejwt's own tokens, and Latchkey's before it wrote one.
        row("eddsa_without_kid", sign(access, "EdDSA", KEYS["EdDSA"]), payload=access, algorithm="EdDSA"),
        row("es256_without_kid", sign(access, "ES256", KEYS["ES256"]), payload=access, algorithm="ES256"),
        row("es256_token_for_eddsa_keys", sign(access, "ES256", KEYS["ES256"]), "Token is invalid",
            payload=access, algorithm="EdDSA"),
        row("hs256_keyed_with_rs256_public_key", hmac_forged(access, public_pems["RS256"].encode()),
            "Token is invalid", payload=access, algorithm="RS256"),
        # Malformed: `decode` is decode_unverified's message, `expect` what verify says.
        row("two_segments", valid[: valid.rindex(".")], "Token is invalid",
            decode="a JWT has three dot-separated segments, this one has 2"),
        row("four_segments", valid + ".c2ln", "Token is invalid",
            decode="a JWT has three dot-separated segments, this one has 4"),
        row("padded_header", valid.replace(".", "=.", 1), "Token is invalid",
            decode="the header segment is not base64url without padding"),
        row("whitespace_in_claims", valid.replace(".", ". ", 1), "Token is invalid",
            decode="the claims segment is not base64url without padding"),
        row("claims_are_an_array", unsigned({"alg": "HS256", "typ": "JWT"}, "[1,2]"), "Token is invalid",
            decode="the claims segment is not a JSON object"),
        row("header_not_json", f"{b64(b'HS256')}.{valid.split('.')[1]}.c2ln", "Token is invalid",
            decode="the header segment is not a JSON object"),
        row("claims_not_utf8", f"{valid.split('.')[0]}.{b64(bytes([0xFF, 0x7B, 0x7D]))}.c2ln", "Token is invalid",
            decode="the claims segment is not UTF-8"),
        row("signature_with_loose_trailing_bits", loose_bits, "Token is invalid",
            decode="the signature segment is not base64url without padding"),
        # Deliberate differences from simplejwt/PyJWT, each stricter.
        row("longer_than_8_kib", long_token, "Token is invalid",
            decode=f"the token is {len(long_token)} bytes long, more than the 8192 bytes allowed",
            deviation="PyJWT has no size limit; Latchkey refuses tokens over 8 KiB before decoding"),
        row("exp_as_float", sign(claims(exp=NOW + 300.5)), "Token is invalid", payload=claims(exp=NOW + 300.5),
            deviation="PyJWT truncates a fractional exp with int(); Latchkey wants integer NumericDates"),
        row("no_iat", sign(claims(iat=DROP)), "Token is invalid", payload=claims(iat=DROP),
            deviation="simplejwt does not require iat (it always writes one); Latchkey's Claims do"),
    ]


def assert_jwks_client_finds_the_key(entry):
    """simplejwt's `JWK_URL` mode picks the key with PyJWKClient, by the token's `kid` alone (a token
    without one finds no key): the JWK Latchkey publishes, whose `kid` is its thumbprint, is found."""
    algorithm = entry["algorithm"]
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(KEYS[algorithm].public_key(), as_dict=True)
    published = jwt.PyJWK(dict(jwk, alg=algorithm, use="sig", kid=thumbprint(algorithm)))
    found = jwt.PyJWKClient.match_kid([published], jwt.get_unverified_header(entry["token"]).get("kid"))
    assert found is published, entry["name"]


def main():
    public_pems, keys = {}, {"HS256": {"secret": SECRET}}
    for name, key in KEYS.items():
        private, public = pems(key)
        public_pems[name] = public
        keys[name] = {"private_pem": private, "public_pem": public}
    # A second Ed25519 public key, for the "pair does not match" check.
    other = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"latchkey ed25519 other").digest())
    keys["EdDSA"]["other_public_pem"] = pems(other)[1]
    entries = rows(public_pems)
    for entry in entries:
        verdict = simplejwt_verdict(entry, public_pems)
        if "deviation" in entry:
            assert verdict != entry["expect"], (entry["name"], verdict)
            entry["simplejwt"] = verdict
        else:
            assert verdict == entry["expect"], (entry["name"], verdict, entry["expect"])
        if entry["name"] in ("eddsa_valid", "rs256_valid", "es256_valid"):
            assert_jwks_client_finds_the_key(entry)
    versions = {name: importlib_version(name) for name in ("pyjwt", "djangorestframework-simplejwt", "cryptography")}
    document = {
        "description": "simplejwt-compatible JWT verdicts. Generated by tests/vectors/gen_jwt.py; see its docstring.",
        "generated_with": versions,
        "keys": keys,
        "tokens": entries,
    }
    OUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(entries)} tokens to {OUT}")


def importlib_version(name):
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
