"""Settings overrides, money parsing and tokens."""

import stat
import time
from decimal import Decimal

import jwt
import pytest

from nxshared.auth import TokenPolicy, decode_token, mint_token
from nxshared.core.caller import ANY_UNIT, Caller, may_see, org_list_setting
from nxshared.core.errors import Unauthorized
from nxshared.core.money import parse_money
from nxshared.secrets import SecretError, auth_secret, check_secret
from nxshared.settings import apply_overrides

SECRET = "a-secret-of-at-least-thirty-two-bytes!"


def test_every_setting_is_overridable_and_typed_like_its_default():
    config = {
        "SERVICE_NAME": "planning",
        "DECLARATION_WINDOW": "12-11..12-20",
        "EVENT_MAX_ATTEMPTS": 5,
        "OUTBOX_RELAY_ENABLED": True,
        "AMQP_URI": "amqp://a",
        "DATABASE_URL": "sqlite:///x",
    }
    env = {
        "NX_DECLARATION_WINDOW": "01-01..12-31",
        "NX_EVENT_MAX_ATTEMPTS": "7",
        "NX_OUTBOX_RELAY_ENABLED": "false",
        "AMQP_URI": "amqp://b",
        "NX_DATABASE_URL": "postgresql://h/nx_{service}",
    }
    out = apply_overrides(config, env)
    assert out["DECLARATION_WINDOW"] == "01-01..12-31"
    assert out["EVENT_MAX_ATTEMPTS"] == 7
    assert out["OUTBOX_RELAY_ENABLED"] is False
    assert out["AMQP_URI"] == "amqp://b"
    assert out["DATABASE_URL"] == "postgresql://h/nx_planning"


def test_a_per_service_override_beats_the_suite_wide_one():
    config = {"SERVICE_NAME": "review", "WEB_SERVER_ADDRESS": "0.0.0.0:8002"}
    env = {"NX_WEB_SERVER_ADDRESS": "0.0.0.0:1", "NX_REVIEW_WEB_SERVER_ADDRESS": "127.0.0.1:9"}
    assert apply_overrides(config, env)["WEB_SERVER_ADDRESS"] == "127.0.0.1:9"


def test_a_bad_override_stops_the_service():
    with pytest.raises(SystemExit):
        apply_overrides({"OUTBOX_RELAY_ENABLED": True}, {"NX_OUTBOX_RELAY_ENABLED": "perhaps"})


@pytest.mark.parametrize(
    "raw, parsed", [("2000000.00", Decimal("2000000.00")), ("0.5", Decimal("0.50")), ("12", Decimal("12.00"))]
)
def test_money_strings_parse_exactly(raw, parsed):
    assert parse_money(raw) == parsed


@pytest.mark.parametrize(
    "raw",
    [
        "1.001",
        "-1.00",
        "-0",
        "+1",
        "1e3",
        "1E3",
        "1_000",
        " 1.00",
        "1.00 ",
        "1.00\n",
        "0x10",
        "01",
        "1.",
        ".5",
        "1" * 30,
        "1000000000000.00",
        10**17,
        "abc",
        1.5,
        None,
        True,
        "NaN",
        "Infinity",
        "",
    ],
)
def test_bad_money_is_refused(raw):
    assert parse_money(raw) is None


def test_the_money_ceiling_is_just_below_a_trillion_yuan():
    assert parse_money("999999999999.99") == Decimal("999999999999.99")
    assert parse_money("1000000000000") is None


def test_tokens_round_trip_and_bad_ones_are_unauthorized():
    caller = decode_token(SECRET, "Bearer " + mint_token(SECRET, "unit:edu", "li"))
    assert caller == Caller("li", "unit:edu") and caller.is_one_of([ANY_UNIT])
    for bad in (
        None,
        "Basic x",
        "Bearer " + mint_token("another-secret-of-thirty-two-bytes!!", "drc"),
        "Bearer " + mint_token(SECRET, "not_an_org"),
        "Bearer " + mint_token(SECRET, "UNIT:EDU"),
        "Bearer " + mint_token(SECRET, "unit:edu\n"),
        "Bearer " + mint_token(SECRET, "drc", sub="x" * 10_000),
        "Bearer " + jwt.encode({"sub": "x", "org": ["drc"], "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
        "Bearer " + jwt.encode({"sub": 7, "org": "drc", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
        "Bearer " + jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
        "Bearer " + jwt.encode({"sub": "x", "org": "drc", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"),
        "Bearer " + jwt.encode({"sub": "x", "org": "drc", "exp": int(time.time()) + 60}, None, algorithm="none"),
        ["Bearer x"],
        "Bearer " + "a" * 5000,
    ):
        with pytest.raises(Unauthorized):
            decode_token(SECRET, bad)
    expired = jwt.encode({"sub": "x", "org": "drc", "exp": int(time.time()) - 5}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized) as err:
        decode_token(SECRET, "Bearer " + expired)
    assert err.value.code == "TOKEN_EXPIRED"


def test_a_token_verified_while_valid_is_refused_once_it_has_expired(monkeypatch):
    """Tokens are verified once per process: the expiry is still checked on every call."""
    token = "Bearer " + mint_token(SECRET, "drc", ttl_seconds=30)
    assert decode_token(SECRET, token).org == "drc"
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthorized) as err:
        decode_token(SECRET, token)
    assert err.value.code == "TOKEN_EXPIRED"


def test_a_token_living_longer_than_the_maximum_lifetime_is_refused():
    policy = TokenPolicy(max_lifetime=3600)
    assert decode_token(SECRET, "Bearer " + mint_token(SECRET, "drc", ttl_seconds=3000), policy).org == "drc"
    with pytest.raises(Unauthorized):
        decode_token(SECRET, "Bearer " + mint_token(SECRET, "drc", ttl_seconds=3700), policy)
    with pytest.raises(Unauthorized):  # the default: 12 hours
        decode_token(SECRET, "Bearer " + mint_token(SECRET, "drc", ttl_seconds=13 * 3600))


def test_issuer_and_audience_are_checked_when_the_settings_name_them():
    v1 = "Bearer " + mint_token(SECRET, "drc")
    assert decode_token(SECRET, v1).org == "drc"  # contract v1 tokens keep working
    policy = TokenPolicy(issuer="nx-sso", audience="nx-suite")
    good = "Bearer " + mint_token(SECRET, "drc", iss="nx-sso", aud="nx-suite")
    assert decode_token(SECRET, good, policy).org == "drc"
    for bad in (
        v1,
        "Bearer " + mint_token(SECRET, "drc", iss="other", aud="nx-suite"),
        "Bearer " + mint_token(SECRET, "drc", iss="nx-sso", aud="other"),
    ):
        with pytest.raises(Unauthorized):
            decode_token(SECRET, bad, policy)


def test_a_missing_secret_is_generated_once_into_an_owner_only_file(tmp_path):
    path = tmp_path / "secrets.json"
    env = {"NX_SECRETS_FILE": str(path)}
    first = auth_secret("", environ=env)
    assert len(first) >= 32 and auth_secret(None, environ=env) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_short_and_sample_secrets_are_refused():
    with pytest.raises(SecretError):
        check_secret("too-short")
    with pytest.raises(SecretError):
        check_secret("change-me-in-production-at-least-32-bytes")
    assert check_secret("change-me-in-production-at-least-32-bytes", dev_mode=True)


class _Project:
    def __init__(self, unit="unit:edu", construction_mode="self_built", classified=False):
        self.unit, self.construction_mode, self.classified = unit, construction_mode, classified


def test_the_one_visibility_rule_of_art_4_and_25():
    visible_to = ("smart_office", "audit")
    assert may_see(Caller("a", "unit:edu"), _Project(), visible_to)
    assert not may_see(Caller("a", "unit:health"), _Project(), visible_to)
    assert may_see(Caller("a", "data_center"), _Project(construction_mode="unified", classified=True), ())
    assert may_see(Caller("a", "drc"), _Project(), visible_to)
    assert not may_see(Caller("a", "drc"), _Project(classified=True), visible_to)
    assert may_see(Caller("a", "audit"), _Project(classified=True), visible_to)


def test_an_org_list_setting_names_only_org_codes():
    assert org_list_setting("smart_office, drc,") == ("smart_office", "drc")
    assert org_list_setting(["unit:edu"]) == ("unit:edu",)
    with pytest.raises(ValueError):
        org_list_setting("smart_office,Finance")
