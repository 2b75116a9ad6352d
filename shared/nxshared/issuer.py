"""``nx`` as the county's token issuer, for development and small deployments (a county with an
identity platform points the services at its ``jwks_uri`` instead: README §Security).

The issuer's keys live beside the local secrets file: ``issuer-keys.json`` (the private Ed25519
keys and which one signs, mode 0600) and ``jwks.json`` (their public halves: the set every service
trusts by default). ``init`` makes the first key (nothing when there is one), ``rotate`` adds a key
and signs with it from then on (the old one stays trusted until ``retire``), ``mint`` signs a token.
"""

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from nxshared.keys import default_jwks_file

PRIVATE_FILE = "issuer-keys.json"


class IssuerError(Exception):
    """What the issuer cannot do; the message says what to do instead."""


def thumbprint(public_jwk: dict) -> str:
    """RFC 7638: the key's own fingerprint, used as its ``kid``."""
    members = {k: public_jwk[k] for k in ("crv", "kty", "x")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_key() -> dict:
    """A new Ed25519 private JWK with its kid, for signing (EdDSA)."""
    private = OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate(), as_dict=True)
    public = {k: private[k] for k in ("kty", "crv", "x")}
    return {**private, "kid": thumbprint(public), "alg": "EdDSA", "use": "sig"}


def public_half(jwk: dict) -> dict:
    return {k: v for k, v in jwk.items() if k != "d"}


class Issuer:
    def __init__(self, secrets_path: Path) -> None:
        self.private_path = Path(secrets_path).parent / PRIVATE_FILE
        self.public_path = default_jwks_file(secrets_path)

    def _read(self) -> dict:
        try:
            return json.loads(self.private_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IssuerError(
                f"没有签发密钥 / no issuer key at {self.private_path}: run `nx keys init`"
                " (or mint tokens with the county's identity platform)"
            ) from None

    def _write(self, state: dict) -> None:
        self.private_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.private_path.with_name(f".{self.private_path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=1)
        os.replace(tmp, self.private_path)
        public = {"keys": [public_half(k) for k in state["keys"]]}
        tmp = self.public_path.with_name(f".{self.public_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(public, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.public_path)

    def init(self) -> str | None:
        """The first key, when there is none yet; returns its kid (None when keys exist)."""
        if self.private_path.exists():
            return None
        key = new_key()
        self._write({"current": key["kid"], "keys": [key]})
        return key["kid"]

    def rotate(self) -> str:
        state = self._read()
        key = new_key()
        state["keys"].append(key)
        state["current"] = key["kid"]
        self._write(state)
        return key["kid"]

    def retire(self, kid: str) -> None:
        state = self._read()
        if kid == state["current"]:
            raise IssuerError(f"{kid} 正在签发令牌 / signs tokens now: `nx keys rotate` first, then retire it")
        if kid not in {k["kid"] for k in state["keys"]}:
            raise IssuerError(f"没有密钥 / no key {kid} (see `nx keys list`)")
        state["keys"] = [k for k in state["keys"] if k["kid"] != kid]
        self._write(state)

    def kids(self) -> tuple[str, list[str]]:
        state = self._read()
        return state["current"], [k["kid"] for k in state["keys"]]

    def mint(self, org: str, sub: str = "operator", ttl_seconds: int = 3600, **claims) -> str:
        state = self._read()
        key = next(k for k in state["keys"] if k["kid"] == state["current"])
        return mint_token(key, org, sub, ttl_seconds, **claims)


def mint_token(private_jwk: dict, org: str, sub: str = "operator", ttl_seconds: int = 3600, **claims) -> str:
    """A contract v2 token signed with ``private_jwk`` (EdDSA, header ``kid``); ``iss``/``aud``
    from ``NX_TOKEN_ISSUER``/``NX_TOKEN_AUDIENCE`` unless given."""
    now = dt.datetime.now(dt.UTC)
    for claim, setting in (("iss", "NX_TOKEN_ISSUER"), ("aud", "NX_TOKEN_AUDIENCE")):
        if claim not in claims and os.environ.get(setting):
            claims[claim] = os.environ[setting]
    payload = {"sub": sub, "org": org, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds), **claims}
    key = OKPAlgorithm.from_jwk(private_jwk)
    if not isinstance(key, Ed25519PrivateKey):
        raise IssuerError(f"key {private_jwk.get('kid')} is not an Ed25519 private key")
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": private_jwk["kid"]})
