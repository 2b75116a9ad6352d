"""Authentication and authorization per CONTRACT §Calling, token v2.

Every call carries context data ``authorization: "Bearer <JWT>"``, signed by the county's identity
platform with its private key (EdDSA; ES256 and RS256 as OIDC providers sign), header ``kid``
naming a key of the trusted public set (``nxshared.keys``), claims ``sub``, ``org``, ``exp`` (and
``iss`` / ``aud`` when the settings name them). A service holds public keys only, so no bureau's
operator can sign for another bureau. HS256 and ``alg: none`` are refused whatever signed them,
including an HMAC made with a public key's own bytes (algorithm confusion): the algorithm is the
trusted key's own, never the token's choice. Which orgs may call a method is said once, where the
method is declared: ``@rpc(allow=["smart_office"])`` (see ``nxshared.entrypoints``).
"""

import functools
import time
from dataclasses import dataclass

import jwt
from nameko.extensions import DependencyProvider

from nxshared.core.caller import Caller, is_org
from nxshared.core.errors import Forbidden, Unauthorized
from nxshared.keys import ALGORITHMS, MAX_KID_LENGTH, TrustedKeys

MAX_TOKEN_LENGTH = 4096
MAX_SUB_LENGTH = 128
DEFAULT_MAX_LIFETIME = 12 * 3600
VERIFIED_TOKENS = 4096  # tokens kept verified per process (a few MB at most)
REFUSAL_REASONS = (
    "missing",
    "malformed",
    "algorithm",
    "unknown_key",
    "bad_signature",
    "expired",
    "claims",
    "lifetime",
    "keys_unavailable",
)


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must satisfy beyond the contract's claims: ``iss`` and ``aud`` when the
    settings name them, and an ``exp`` no further ahead than ``max_lifetime`` seconds."""

    issuer: str = ""
    audience: str = ""
    max_lifetime: int = DEFAULT_MAX_LIFETIME

    @classmethod
    def from_config(cls, config):
        return cls(
            issuer=str(config.get("TOKEN_ISSUER") or ""),
            audience=str(config.get("TOKEN_AUDIENCE") or ""),
            max_lifetime=int(config.get("TOKEN_MAX_LIFETIME_SECONDS") or DEFAULT_MAX_LIFETIME),
        )


def refused(error, reason):
    """``error`` (an ``Unauthorized``) saying also, for the metric, which kind of token it refused."""
    error.reason = reason
    return error


def decode_token(keys: TrustedKeys, authorization, policy=TokenPolicy()):
    """The caller named by a contract v2 token. Anything else (no token, another algorithm, an
    unknown or ill-formed ``kid``, a signature by another key, missing or ill-typed claims, an
    unknown org, an over-long person id, an ``exp`` too far ahead, a wrong ``iss``/``aud`` where the
    policy names them, an expired one) is Unauthorized."""
    if not isinstance(authorization, str) or not authorization.startswith("Bearer "):
        raise refused(Unauthorized("UNAUTHORIZED", "缺少身份令牌（authorization: Bearer <JWT>）"), "missing")
    if len(authorization) > MAX_TOKEN_LENGTH:
        raise refused(Unauthorized("INVALID_TOKEN", "身份令牌过长"), "malformed")
    caller, expires, kid = _verified(keys, authorization, policy)
    if not keys.trusts(kid):  # verified with a key since removed from the trusted set
        raise refused(Unauthorized("INVALID_TOKEN", "签发身份令牌的密钥已不再受信任"), "unknown_key")
    if expires <= time.time():  # verified while it was valid, expired since
        raise refused(Unauthorized("TOKEN_EXPIRED", "身份令牌已过期"), "expired")
    return caller


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(keys, authorization, policy):
    """The caller, expiry and key id of a token whose signature and claims hold. A system calls
    with the same token for its lifetime: verifying it once per process, not once per call, saves
    a signature check a call. A refused token raises and is not kept."""
    token = authorization[len("Bearer ") :]
    key = _signing_key(keys, token)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            options={
                "require": [
                    "exp",
                    "sub",
                    "org",
                    *(["iss"] if policy.issuer else []),
                    *(["aud"] if policy.audience else []),
                ],
                "verify_aud": bool(policy.audience),
            },
            issuer=policy.issuer or None,
            audience=policy.audience or None,
        )
    except jwt.ExpiredSignatureError:
        raise refused(Unauthorized("TOKEN_EXPIRED", "身份令牌已过期"), "expired") from None
    except jwt.InvalidSignatureError:
        raise refused(Unauthorized("INVALID_TOKEN", "身份令牌签名无效"), "bad_signature") from None
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as exc:  # e.g. "exp": Infinity
        raise refused(Unauthorized("INVALID_TOKEN", f"身份令牌无效：{str(exc)[:200]}"), "claims") from None
    if claims["exp"] > time.time() + policy.max_lifetime:
        raise refused(
            Unauthorized("INVALID_TOKEN", f"身份令牌有效期过长（最长 {policy.max_lifetime // 3600} 小时）"), "lifetime"
        )
    sub, org = claims["sub"], claims["org"]
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_LENGTH or not sub.isprintable():
        raise refused(
            Unauthorized("INVALID_TOKEN", f"身份令牌中的人员标识（sub）须为不超过 {MAX_SUB_LENGTH} 个字符的文本"),
            "claims",
        )
    if not is_org(org):
        raise refused(Unauthorized("INVALID_TOKEN", "身份令牌中的机构代码（org）无效"), "claims")
    return Caller(sub=sub, org=org), float(claims["exp"]), key.key_id


def _signing_key(keys, token):
    """The trusted key the token's header names, if its algorithm is that key's own."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise refused(Unauthorized("INVALID_TOKEN", f"身份令牌格式无效：{str(exc)[:200]}"), "malformed") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:
        raise refused(
            Unauthorized("INVALID_TOKEN", f"身份令牌的签名算法不被接受（只接受 {'、'.join(ALGORITHMS)}）"), "algorithm"
        )
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise refused(Unauthorized("INVALID_TOKEN", "身份令牌头部须以 kid 指明签名密钥"), "malformed")
    key = keys.key_for(kid)
    if key is None:
        if keys.error and not keys.keys:
            raise refused(Unauthorized("UNAUTHORIZED", f"无法取得受信任的公钥：{keys.error}"), "keys_unavailable")
        raise refused(Unauthorized("INVALID_TOKEN", "签发身份令牌的密钥不受信任"), "unknown_key")
    if key.algorithm_name != algorithm:
        raise refused(Unauthorized("INVALID_TOKEN", "身份令牌的签名算法与其密钥不符"), "algorithm")
    return key


class AuthContext:
    """Per worker: the caller named by the call's token, checked against the method's orgs."""

    def __init__(self, keys, authorization, policy, on_refused):
        self._keys = keys
        self._authorization = authorization
        self._policy = policy
        self._on_refused = on_refused
        self.caller = None

    def authorize(self, allowed):
        try:
            caller = decode_token(self._keys, self._authorization, self._policy)
        except Unauthorized as exc:
            self._on_refused(getattr(exc, "reason", "claims"))
            raise
        if not caller.is_one_of(allowed):
            raise Forbidden("FORBIDDEN", f"机构 {caller.org} 无权执行此操作")
        self.caller = caller
        return caller


class Auth(DependencyProvider):
    """The trusted keys and token policy from the settings (``nxshared.keys``): a key set that is
    missing, not a set or private stops the service at start; an unreachable ``jwks_uri`` does not
    (calls are refused, naming it, until it answers). The set is read again in the background
    every ``AUTH_JWKS_REFRESH_SECONDS``; refused tokens are counted by reason."""

    def setup(self):
        from nxshared.metrics import registry_for

        config = self.container.config
        self.keys = TrustedKeys.from_config(config)
        self.policy = TokenPolicy.from_config(config)
        self.refusals = registry_for(self.container).token_refusals

    def start(self):
        self.container.spawn_managed_thread(self._keep_keys_current, identifier="trusted_keys")

    def _keep_keys_current(self):
        import eventlet

        while True:
            eventlet.sleep(min(self.keys.refresh_seconds, 5.0) if self.keys.error else self.keys.refresh_seconds)
            self.keys.reload()

    def get_dependency(self, worker_ctx):
        return AuthContext(
            self.keys,
            worker_ctx.context_data.get("authorization"),
            self.policy,
            lambda reason: self.refusals.labels(reason).inc(),
        )
