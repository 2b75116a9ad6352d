"""Authentication and authorization per CONTRACT §Calling.

Every call carries context data ``authorization: "Bearer <JWT>"`` (HS256, secret ``AUTH_SECRET``,
claims ``sub``, ``org``, ``exp``). Which orgs may call a method is said once, where the method is
declared: ``@rpc(allow=["smart_office"])`` (see ``nxshared.entrypoints``).
"""

import datetime as dt

import jwt
from nameko.extensions import DependencyProvider

from nxshared.core.caller import Caller, is_org
from nxshared.core.errors import Forbidden, Unauthorized


def mint_token(secret, org, sub="operator", ttl_seconds=3600):
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
    return jwt.encode({"sub": sub, "org": org, "exp": exp}, secret, algorithm="HS256")


MAX_TOKEN_LENGTH = 4096
MAX_SUB_LENGTH = 128


def decode_token(secret, authorization):
    """The caller named by a contract v1 token. Anything else (no token, another algorithm, ``alg:
    none``, missing or ill-typed claims, an unknown org, an over-long person id) is Unauthorized."""
    if not isinstance(authorization, str) or not authorization.startswith("Bearer "):
        raise Unauthorized("UNAUTHORIZED", "缺少身份令牌（authorization: Bearer <JWT>）")
    if len(authorization) > MAX_TOKEN_LENGTH:
        raise Unauthorized("INVALID_TOKEN", "身份令牌过长")
    try:
        claims = jwt.decode(
            authorization[len("Bearer ") :], secret, algorithms=["HS256"], options={"require": ["exp", "sub", "org"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("TOKEN_EXPIRED", "身份令牌已过期") from None
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as exc:  # e.g. "exp": Infinity
        raise Unauthorized("INVALID_TOKEN", f"身份令牌无效：{str(exc)[:200]}") from None
    sub, org = claims["sub"], claims["org"]
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_LENGTH or not sub.isprintable():
        raise Unauthorized("INVALID_TOKEN", f"身份令牌中的人员标识（sub）须为不超过 {MAX_SUB_LENGTH} 个字符的文本")
    if not is_org(org):
        raise Unauthorized("INVALID_TOKEN", "身份令牌中的机构代码（org）无效")
    return Caller(sub=sub, org=org)


class AuthContext:
    """Per worker: the caller named by the call's token, checked against the method's orgs."""

    def __init__(self, secret, authorization):
        self._secret = secret
        self._authorization = authorization
        self.caller = None

    def authorize(self, allowed):
        caller = decode_token(self._secret, self._authorization)
        if not caller.is_one_of(allowed):
            raise Forbidden("FORBIDDEN", f"机构 {caller.org} 无权执行此操作")
        self.caller = caller
        return caller


class Auth(DependencyProvider):
    def setup(self):
        self.secret = self.container.config["AUTH_SECRET"]

    def get_dependency(self, worker_ctx):
        return AuthContext(self.secret, worker_ctx.context_data.get("authorization"))
