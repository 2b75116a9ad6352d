"""The keys a service trusts to have signed the contract's tokens (token v2, CONTRACT §Calling): a
JSON Web Key Set of *public* keys, from a file (``AUTH_JWKS_FILE``, default the one ``nx keys
init`` writes beside the local secrets) or from the identity platform's ``jwks_uri``
(``AUTH_JWKS_URL``).

A service never holds a signing key: a set with private parameters (``d``, ``p``, ``q``, …, or a
symmetric ``k``) stops it at start. Keys marked for another use (``use: enc``) or another algorithm
than the three OIDC providers sign with (EdDSA, ES256, RS256) are not trusted. Keys rotate without
a restart: a token naming an unknown ``kid`` makes the set be read again (at most once every
``RELOAD_MIN_SECONDS``, so a flood of invented kids costs nothing), and the set is read again every
``AUTH_JWKS_REFRESH_SECONDS`` (30) in any case, so a key removed from it is refused within a minute.
"""

import json
import logging
import time
import urllib.request
from pathlib import Path

import jwt

log = logging.getLogger(__name__)

ALGORITHMS = ("EdDSA", "ES256", "RS256")
PRIVATE_PARAMETERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KID_LENGTH = 128
RELOAD_MIN_SECONDS = 5.0
DEFAULT_REFRESH_SECONDS = 30.0
FETCH_TIMEOUT = 3.0


class KeySetError(ValueError):
    """A key set a service must not start with; the message says why and what to do."""


def _algorithm(jwk: dict) -> str | None:
    """The algorithm a public JWK verifies: its ``alg``, else the one its type implies."""
    if "alg" in jwk:
        return jwk["alg"] if jwk["alg"] in ALGORITHMS else None
    implied: dict[tuple[object, object], str] = {
        ("OKP", "Ed25519"): "EdDSA",
        ("EC", "P-256"): "ES256",
        ("RSA", None): "RS256",
    }
    return implied.get((jwk.get("kty"), jwk.get("crv")))


def parse_key_set(document, origin: str) -> dict[str, jwt.PyJWK]:
    """``{kid: key}`` of the signature keys of a JWKS document. Raises ``KeySetError`` for a
    document that is not a key set or that holds a private key."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetError(f"{origin} is not a JSON Web Key Set (an object with a list of keys)")
    trusted = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            raise KeySetError(f"{origin}: a key is not a JSON object")
        if PRIVATE_PARAMETERS & set(jwk):
            raise KeySetError(
                f"{origin} holds a private key (kid {str(jwk.get('kid'))[:40]!r}): a service verifies with the"
                " public keys only; publish the issuer's public set (nx keys init writes it beside the private key)"
            )
        kid, algorithm = jwk.get("kid"), _algorithm(jwk)
        if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
            log.warning("%s: a key without a usable kid is not trusted", origin)
            continue
        if jwk.get("use", "sig") != "sig" or algorithm is None:
            log.warning("%s: key %s is not a signature key of %s; not trusted", origin, kid, "/".join(ALGORITHMS))
            continue
        try:
            trusted[kid] = jwt.PyJWK(jwk, algorithm=algorithm)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            log.warning("%s: key %s cannot be read (%s); not trusted", origin, kid, exc)
    return trusted


class TrustedKeys:
    """The trusted set, read from its source and kept current. ``error`` says why there is none
    (an unreachable ``jwks_uri``): calls are then refused naming it, and the set is tried again."""

    def __init__(self, source: str, refresh_seconds: float = DEFAULT_REFRESH_SECONDS) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.error: str | None = "not read yet"
        self._read_at = float("-inf")

    @classmethod
    def from_config(cls, config, environ=None) -> "TrustedKeys":
        """The set the settings name, read once: a file that is missing, not a set or private
        raises ``KeySetError`` (the service does not start); an unreachable URL does not."""
        from nxshared.secrets import secrets_file

        url = str(config.get("AUTH_JWKS_URL") or "")
        path = str(config.get("AUTH_JWKS_FILE") or "") or str(default_jwks_file(secrets_file(environ)))
        refresh = float(config.get("AUTH_JWKS_REFRESH_SECONDS") or DEFAULT_REFRESH_SECONDS)
        keys = cls(url or path, refresh)
        keys._read_at = time.monotonic()
        try:
            keys.keys, keys.error = (keys._read_url() if url else keys._read_file()), None
        except (OSError, ValueError) as exc:
            if isinstance(exc, KeySetError) or not url:  # a set that must not be used: do not start
                raise
            keys.error = str(exc)[:300]  # the platform is not reachable yet: start, refuse calls, retry
            log.warning("trusted keys from %s not read yet: %s", url, keys.error)
        return keys

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        """The key named ``kid``; an unknown one has the set read again first, at most once every
        ``RELOAD_MIN_SECONDS``."""
        key = self.keys.get(kid)
        if key is None and time.monotonic() - self._read_at >= RELOAD_MIN_SECONDS:
            self.reload()
            key = self.keys.get(kid)
        return key

    def trusts(self, kid: str) -> bool:
        return kid in self.keys

    def reload(self) -> None:
        """Read the set again; a failure keeps the last good set (a URL that never answered: none)
        and says why in ``error``. Never raises."""
        self._read_at = time.monotonic()
        try:
            self.keys = self._read_url() if self.is_url else self._read_file()
        except Exception as exc:  # noqa: BLE001 - whatever the file or the platform did, keep serving
            self.error = str(exc)[:300] or type(exc).__name__
            log.warning("trusted keys from %s not read: %s", self.source, self.error)
        else:
            self.error = None

    def refresh_if_due(self) -> None:
        if time.monotonic() - self._read_at >= self.refresh_seconds:
            self.reload()

    def _read_file(self) -> dict[str, jwt.PyJWK]:
        path = Path(self.source)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeySetError(
                f"no trusted keys at {path}: run `nx keys init` (make up does), or set NX_AUTH_JWKS_FILE or"
                " NX_AUTH_JWKS_URL to the identity platform's public keys"
            ) from None
        except json.JSONDecodeError as exc:
            raise KeySetError(f"{path} is not JSON: {exc}") from None
        return parse_key_set(document, str(path))

    def _read_url(self) -> dict[str, jwt.PyJWK]:
        with urllib.request.urlopen(self.source, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - the operator's URL
            document = json.loads(response.read(1 << 20))
        return parse_key_set(document, self.source)


def default_jwks_file(secrets_path: Path) -> Path:
    """Where ``nx keys init`` publishes the local issuer's public keys: beside the secrets file."""
    return Path(secrets_path).parent / "jwks.json"
