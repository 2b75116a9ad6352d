"""Authentication and authorization per CONTRACT §Calling.

Every call carries context data ``authorization: "Bearer <JWT>"`` (HS256, secret ``AUTH_SECRET``,
claims ``sub``, ``org``, ``exp``). Which orgs may call a method is said once, where the method is
declared: ``@rpc(allow=["smart_office"])`` (see ``nxshared.entrypoints``).
"""

import datetime as dt
import re
from dataclasses import dataclass

import jwt
from nameko.extensions import DependencyProvider

from nxshared.errors import Forbidden, Unauthorized

ANY_ORG = "*"
ANY_UNIT = "unit:*"
UNIT_ORG = re.compile(r"^unit:[a-z0-9_\-]+$")
BUREAUS = ("smart_office", "data_center", "drc", "finance", "audit", "county_gov")


def is_org(org):
    return org in BUREAUS or bool(UNIT_ORG.match(org or ""))


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str

    @property
    def actor(self):
        """Who did it, as events and decision records name them (Art 27): ``person@org``."""
        return f"{self.sub}@{self.org}"

    @property
    def is_unit(self):
        return self.org.startswith("unit:")

    def is_one_of(self, allowed):
        return any(a == ANY_ORG or a == self.org or (a == ANY_UNIT and self.is_unit) for a in allowed)


def project_owner(project):
    """Art 4, 11: the org that acts for a project: its unit for a self-built project, ``data_center``
    (which builds it) for a unified one. ``project`` has ``unit`` and ``construction_mode``."""
    return "data_center" if project.construction_mode == "unified" else project.unit


def check_project_owner(caller, project, action):
    """Refuses anyone but the project's owner; ``action`` says, in Chinese, what was attempted."""
    owner = project_owner(project)
    if caller.org != owner:
        raise Forbidden("NOT_PROJECT_OWNER", f"只有项目建设单位（{owner}）可以{action}（第四条、第十一条）", "Art 11")


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
