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


def decode_token(secret, authorization):
    if not authorization or not str(authorization).startswith("Bearer "):
        raise Unauthorized("UNAUTHORIZED", "缺少身份令牌（authorization: Bearer <JWT>）")
    try:
        claims = jwt.decode(
            authorization[len("Bearer ") :], secret, algorithms=["HS256"], options={"require": ["exp", "sub", "org"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("TOKEN_EXPIRED", "身份令牌已过期") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("INVALID_TOKEN", f"身份令牌无效：{exc}") from None
    if not is_org(claims["org"]):
        raise Unauthorized("INVALID_TOKEN", f"身份令牌中的机构代码无效：{claims['org']}")
    return Caller(sub=str(claims["sub"]), org=claims["org"])


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
