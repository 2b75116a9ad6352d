"""Settings overrides, money parsing, local secrets and the visibility rule (tokens: test_tokens.py)."""

import stat
from decimal import Decimal
from pathlib import Path

import pytest

from nxshared.core.caller import Caller, may_see, org_list_setting
from nxshared.core.money import parse_money
from nxshared.secrets import broker_password
from nxshared.settings import apply_overrides

ROOT = Path(__file__).resolve().parents[2]


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


def test_ops_pages_listen_on_the_ops_address_on_loopback_unless_told_otherwise(tmp_path):
    from nxshared.discovery import installed_services
    from nxshared.settings import load_settings, ops_address

    for service in installed_services():
        config = load_settings(service.directory, environ={})
        assert config["OPS_ADDRESS"].startswith("127.0.0.1:"), service.name
        assert config["WEB_SERVER_ADDRESS"] == config["OPS_ADDRESS"]  # nameko's web server binds it
        if config.get("PUBLIC_APP"):
            assert config["PUBLIC_OPS_ADDRESS"].startswith("127.0.0.1:"), service.name
            assert config["PUBLIC_ADDRESS"].rsplit(":", 1)[1] != config["OPS_ADDRESS"].rsplit(":", 1)[1]
    # a service written before ops addresses keeps its port, on loopback
    assert ops_address({"WEB_SERVER_ADDRESS": "0.0.0.0:8005"})["WEB_SERVER_ADDRESS"] == "127.0.0.1:8005"
    env = {"NX_PLANNING_OPS_ADDRESS": "10.0.0.7:9001"}  # the pod network, when an operator says so
    assert load_settings(ROOT / "services" / "planning", environ=env)["WEB_SERVER_ADDRESS"] == "10.0.0.7:9001"


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


def test_a_broker_password_is_generated_once_into_an_owner_only_file(tmp_path):
    path = tmp_path / "secrets.json"
    first = broker_password("nx-planning", path)
    assert len(first) >= 32 and broker_password("nx-planning", path) == first
    assert broker_password("nx-review", path) != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


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
