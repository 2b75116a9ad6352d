"""Token v2 (issue 26): tokens signed by the identity platform's private key, verified with its
public keys; every refused kind beside its code and metric reason."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from nxshared.auth import TokenPolicy, decode_token
from nxshared.core.caller import ANY_UNIT, Caller
from nxshared.core.errors import Unauthorized
from nxshared.issuer import Issuer, IssuerError, mint_token, new_key, public_half
from nxshared.keys import KeySetError, TrustedKeys, parse_key_set


def keyset(tmp_path, *keys, name="jwks.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"keys": [public_half(k) for k in keys]}))
    return TrustedKeys.from_config({"AUTH_JWKS_FILE": str(path)})


def refusal(keys, authorization, policy=None):
    with pytest.raises(Unauthorized) as err:
        decode_token(keys, authorization, policy or TokenPolicy())
    return err.value.code, err.value.reason


def claims(org="drc", seconds=600, **more):
    return {"sub": "li", "org": org, "exp": int(time.time()) + seconds, **more}


@pytest.fixture
def issuer_key():
    return new_key()


@pytest.fixture
def keys(tmp_path, issuer_key):
    return keyset(tmp_path, issuer_key)


def test_a_token_of_the_trusted_issuer_names_its_caller(keys, issuer_key):
    caller = decode_token(keys, "Bearer " + mint_token(issuer_key, "unit:edu", "li"))
    assert caller == Caller("li", "unit:edu") and caller.is_one_of([ANY_UNIT])


def test_es256_and_rs256_are_accepted_as_oidc_providers_sign(tmp_path):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_jwk = {**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "ec-1"}
    rsa_jwk = {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rsa-1", "use": "sig"}
    path = tmp_path / "oidc.json"
    path.write_text(json.dumps({"keys": [ec_jwk, rsa_jwk]}))
    keys = TrustedKeys.from_config({"AUTH_JWKS_FILE": str(path)})
    for key, algorithm, kid in ((ec_key, "ES256", "ec-1"), (rsa_key, "RS256", "rsa-1")):
        token = jwt.encode(claims(), key, algorithm=algorithm, headers={"kid": kid})
        assert decode_token(keys, "Bearer " + token).org == "drc"


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def signed_by_hand(private_jwk, header, payload):
    """A token with any header at all (PyJWT will not encode some), signed with ``private_jwk``."""
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(payload).encode())
    signature = OKPAlgorithm.from_jwk(private_jwk).sign(signing_input)
    return (signing_input + b"." + _b64(signature)).decode()


REFUSED = {
    "no token": (lambda k: None, "UNAUTHORIZED", "missing"),
    "not a bearer": (lambda k: "Basic x", "UNAUTHORIZED", "missing"),
    "too long": (lambda k: "Bearer " + "a" * 5000, "INVALID_TOKEN", "malformed"),
    "not a JWT": (lambda k: "Bearer abc", "INVALID_TOKEN", "malformed"),
    "HS256": (
        lambda k: "Bearer " + jwt.encode(claims(), "s" * 40, algorithm="HS256", headers={"kid": k["kid"]}),
        "INVALID_TOKEN",
        "algorithm",
    ),
    "HMAC with the public key's bytes": (
        lambda k: "Bearer " + jwt.encode(claims(), k["x"].encode(), algorithm="HS256", headers={"kid": k["kid"]}),
        "INVALID_TOKEN",
        "algorithm",
    ),
    "alg none": (
        lambda k: "Bearer " + jwt.encode(claims(), None, algorithm="none", headers={"kid": k["kid"]}),
        "INVALID_TOKEN",
        "algorithm",
    ),
    "no kid": (
        lambda k: "Bearer " + jwt.encode(claims(), OKPAlgorithm.from_jwk(k), algorithm="EdDSA"),
        "INVALID_TOKEN",
        "malformed",
    ),
    "kid not a string": (
        lambda k: "Bearer " + signed_by_hand(k, {"alg": "EdDSA", "kid": 7}, claims()),
        "INVALID_TOKEN",
        "malformed",
    ),
    "kid of 10 kB": (
        lambda k: (
            "Bearer " + jwt.encode(claims(), OKPAlgorithm.from_jwk(k), algorithm="EdDSA", headers={"kid": "k" * 10_000})
        ),
        "INVALID_TOKEN",
        "malformed",
    ),
    "unknown kid": (
        lambda k: (
            "Bearer " + jwt.encode(claims(), OKPAlgorithm.from_jwk(k), algorithm="EdDSA", headers={"kid": "invented"})
        ),
        "INVALID_TOKEN",
        "unknown_key",
    ),
    "signed by another key": (
        lambda k: "Bearer " + mint_token({**new_key(), "kid": k["kid"]}, "drc"),
        "INVALID_TOKEN",
        "bad_signature",
    ),
    "expired": (lambda k: "Bearer " + mint_token(k, "drc", ttl_seconds=-5), "TOKEN_EXPIRED", "expired"),
    "lives too long": (lambda k: "Bearer " + mint_token(k, "drc", ttl_seconds=13 * 3600), "INVALID_TOKEN", "lifetime"),
    "no org": (
        lambda k: (
            "Bearer "
            + jwt.encode(
                {"sub": "x", "exp": int(time.time()) + 60}, OKPAlgorithm.from_jwk(k), "EdDSA", {"kid": k["kid"]}
            )
        ),
        "INVALID_TOKEN",
        "claims",
    ),
    "unknown org": (lambda k: "Bearer " + mint_token(k, "UNIT:EDU"), "INVALID_TOKEN", "claims"),
    "org a list": (
        lambda k: "Bearer " + jwt.encode(claims(org=["drc"]), OKPAlgorithm.from_jwk(k), "EdDSA", {"kid": k["kid"]}),
        "INVALID_TOKEN",
        "claims",
    ),
    "sub too long": (lambda k: "Bearer " + mint_token(k, "drc", sub="x" * 200), "INVALID_TOKEN", "claims"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_every_refused_kind_is_unauthorized_with_its_code_and_reason(keys, issuer_key, kind):
    make, code, reason = REFUSED[kind]
    assert refusal(keys, make(issuer_key)) == (code, reason)


def test_a_token_verified_while_valid_is_refused_once_it_has_expired(keys, issuer_key, monkeypatch):
    """Tokens are verified once per process: the expiry is still checked on every call."""
    token = "Bearer " + mint_token(issuer_key, "drc", ttl_seconds=30)
    assert decode_token(keys, token).org == "drc"
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert refusal(keys, token) == ("TOKEN_EXPIRED", "expired")


def test_issuer_and_audience_are_checked_when_the_settings_name_them(keys, issuer_key):
    policy = TokenPolicy(issuer="https://sso.nanxian.gov.cn/realms/nx", audience="nx-suite")
    good = mint_token(issuer_key, "drc", iss=policy.issuer, aud="nx-suite")
    assert decode_token(keys, "Bearer " + good, policy).org == "drc"
    for bad in (
        mint_token(issuer_key, "drc"),
        mint_token(issuer_key, "drc", iss="other", aud="nx-suite"),
        mint_token(issuer_key, "drc", iss=policy.issuer, aud="other"),
    ):
        assert refusal(keys, "Bearer " + bad, policy) == ("INVALID_TOKEN", "claims")


def test_a_key_added_to_the_set_is_trusted_without_a_restart_and_a_removed_one_refused(tmp_path, issuer_key):
    keys = keyset(tmp_path, issuer_key)
    keys._read_at -= 10  # the set was read a while ago: an unknown kid reads it again
    added = new_key()
    keyset(tmp_path, issuer_key, added)  # the platform publishes a second key
    assert decode_token(keys, "Bearer " + mint_token(added, "drc")).org == "drc"
    old_token = "Bearer " + mint_token(issuer_key, "drc")
    assert decode_token(keys, old_token).org == "drc"  # and keeps trusting the first one
    keyset(tmp_path, added)  # the first key retired
    keys.reload()  # what the refresh thread does every AUTH_JWKS_REFRESH_SECONDS
    assert refusal(keys, old_token) == ("INVALID_TOKEN", "unknown_key")  # even though verified before


def test_a_flood_of_invented_kids_reads_the_set_at_most_once_every_few_seconds(tmp_path, issuer_key, monkeypatch):
    keys = keyset(tmp_path, issuer_key)
    reads = []
    monkeypatch.setattr(keys, "_read_file", lambda: reads.append(1) or {})
    for n in range(200):
        token = jwt.encode(claims(), OKPAlgorithm.from_jwk(issuer_key), "EdDSA", {"kid": f"kid-{n}"})
        refusal(keys, "Bearer " + token)
    assert len(reads) <= 1


def test_a_set_with_a_private_key_is_refused(tmp_path, issuer_key):
    path = tmp_path / "leaked.json"
    path.write_text(json.dumps({"keys": [issuer_key]}))
    with pytest.raises(KeySetError, match="private key"):
        TrustedKeys.from_config({"AUTH_JWKS_FILE": str(path)})
    symmetric = {"kty": "oct", "kid": "h", "k": base64.urlsafe_b64encode(b"s" * 32).decode()}
    with pytest.raises(KeySetError, match="private key"):
        parse_key_set({"keys": [symmetric]}, "x")


def test_a_missing_set_or_one_that_is_not_a_set_stops_a_service_at_start(tmp_path):
    with pytest.raises(KeySetError, match="nx keys init"):
        TrustedKeys.from_config({"AUTH_JWKS_FILE": str(tmp_path / "none.json")})
    for text in ("[1, 2]", "not json", '{"keys": "x"}'):
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(KeySetError):
            TrustedKeys.from_config({"AUTH_JWKS_FILE": str(tmp_path / "bad.json")})


def test_an_encryption_key_is_not_trusted_for_signatures(tmp_path, issuer_key):
    path = tmp_path / "enc.json"
    path.write_text(json.dumps({"keys": [{**public_half(issuer_key), "use": "enc"}]}))
    keys = TrustedKeys.from_config({"AUTH_JWKS_FILE": str(path)})
    assert refusal(keys, "Bearer " + mint_token(issuer_key, "drc")) == ("INVALID_TOKEN", "unknown_key")


def test_an_unreachable_jwks_url_starts_and_refuses_naming_the_cause(issuer_key):
    keys = TrustedKeys.from_config({"AUTH_JWKS_URL": "http://127.0.0.1:9/jwks.json"})
    code, reason = refusal(keys, "Bearer " + mint_token(issuer_key, "drc"))
    assert (code, reason) == ("UNAUTHORIZED", "keys_unavailable")
    with pytest.raises(Unauthorized, match="无法取得受信任的公钥"):
        decode_token(keys, "Bearer " + mint_token(issuer_key, "drc"))


def test_the_local_issuer_inits_once_rotates_and_retires(tmp_path):
    issuer = Issuer(tmp_path / "secrets.json")
    with pytest.raises(IssuerError, match="nx keys init"):
        issuer.mint("drc")
    first = issuer.init()
    assert issuer.init() is None  # once
    assert stat.S_IMODE(issuer.private_path.stat().st_mode) == 0o600
    public = json.loads(issuer.public_path.read_text())
    assert [k["kid"] for k in public["keys"]] == [first] and "d" not in public["keys"][0]
    keys = TrustedKeys.from_config({"AUTH_JWKS_FILE": str(issuer.public_path)})
    first_token = "Bearer " + issuer.mint("smart_office")
    assert jwt.get_unverified_header(first_token[7:])["kid"] == first
    second = issuer.rotate()
    keys.reload()
    second_token = "Bearer " + issuer.mint("smart_office")
    assert jwt.get_unverified_header(second_token[7:]) == {"alg": "EdDSA", "kid": second, "typ": "JWT"}
    assert decode_token(keys, first_token).org == decode_token(keys, second_token).org == "smart_office"
    with pytest.raises(IssuerError, match="rotate"):
        issuer.retire(second)
    issuer.retire(first)
    keys.reload()
    assert refusal(keys, first_token) == ("INVALID_TOKEN", "unknown_key")
    assert decode_token(keys, second_token).org == "smart_office"


def test_the_issuer_puts_iss_and_aud_in_its_tokens_when_the_settings_name_them(monkeypatch, issuer_key):
    monkeypatch.setenv("NX_TOKEN_ISSUER", "nx-issuer")
    monkeypatch.setenv("NX_TOKEN_AUDIENCE", "nx-suite")
    token = mint_token(issuer_key, "drc")
    decoded = jwt.decode(
        token, OKPAlgorithm.from_jwk(public_half(issuer_key)), ["EdDSA"], audience="nx-suite", issuer="nx-issuer"
    )
    assert decoded["org"] == "drc" and decoded["exp"] > dt.datetime.now(dt.UTC).timestamp()


def test_pem_of_the_public_key_is_no_hmac_secret_either(keys, issuer_key):
    """PyJWT itself refuses to use a PEM public key as an HMAC secret; were it to, the algorithm
    check would still refuse the token."""
    pem = OKPAlgorithm.from_jwk(public_half(issuer_key)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": issuer_key["kid"]}).encode())
    body = _b64(json.dumps(claims()).encode())
    signature = _b64(hmac.new(pem, header + b"." + body, hashlib.sha256).digest())
    token = b".".join([header, body, signature]).decode()
    assert refusal(keys, "Bearer " + token) == ("INVALID_TOKEN", "algorithm")


@pytest.mark.parametrize("content", [None, "[]", "private"])
def test_a_service_without_a_usable_key_set_does_not_start_and_says_why(tmp_path, content):
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "jwks.json"
    if content == "private":
        path.write_text(json.dumps({"keys": [new_key()]}))
    elif content is not None:
        path.write_text(content)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "NX_AUTH_JWKS_FILE": str(path), "NX_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    done = subprocess.run(
        [sys.executable, "-m", "nxshared.runner", str(root / "services" / "approval")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("approval does not start:") and "Traceback" not in done.stderr
