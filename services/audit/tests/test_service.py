"""Audit's service tests: the real container on a real broker (per-test vhost) and database, every
service's events delivered through the broker; the trail tampered with in the database directly."""

import hashlib
import json
import time
import uuid

import pytest
import requests
from kombu import Connection
from nameko.standalone.events import event_dispatcher
from sqlalchemy import delete, func, insert, select, update

from audit.models import checkpoint_heads, checkpoints, outbox, trail, trail_heads
from audit.service import AuditService
from nxshared.clock import Clock
from nxshared.core.errors import Conflict, Forbidden, NotFound, ValidationError
from nxshared.db import make_engine
from nxshared.testing import call, make_event, schema_drift
from nxshared.testing import deliver as deliver_to

PROJECT = "prj-0123456789ab"
DECLARED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "category": "software",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "annual",
    "estimated_investment": "2500000.00",
    "classified": False,
}


@pytest.fixture
def config(service_config):
    return service_config("audit", CHECKPOINT_SECONDS=3600.0, EVENT_MAX_ATTEMPTS=2)


@pytest.fixture
def audit(container_factory, config):
    container = container_factory(AuditService, config)
    container.start()
    return container


def query(config, statement):
    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            result = conn.execute(statement)
            return result.fetchall() if result.returns_rows else result.rowcount
    finally:
        engine.dispose()


def eventually(probe, timeout=10, what="condition"):
    """Poll ``probe`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def envelope(event_type, project_id=PROJECT, data=None, source="planning", **fields):
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": 1,
        "occurred_at": Clock.now().isoformat(),
        "source": source,
        "project_id": project_id,
        "actor": "li@unit:edu",
        "data": data or {},
        **fields,
    }


def deliver(container, payload):
    return deliver_to(container, "record_trail", payload)


def declared(container, project_id=PROJECT, **data):
    return deliver(container, make_event("project.declared", project_id, {**DECLARED, **data}, actor="li@unit:edu"))


def a_trail(container, count=6, project_id=PROJECT):
    declared(container, project_id)
    for n in range(count - 1):
        deliver(container, envelope("review.opinion_recorded", project_id, {"n": n, "意见": "可行"}, source="review"))
    return call(container, "get_trail", "audit", project_id=project_id)


def verify(container, project_id=PROJECT, org="audit"):
    return call(container, "verify_trail", org, project_id=project_id)


def outsider_check(entries):
    """The ten lines an outsider writes from the README's rule, on what get_trail returned."""
    prev = "0" * 64
    for n, entry in enumerate(entries, start=1):
        body = {k: v for k, v in entry.items() if k != "hash"}
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        if entry["seq"] != n or entry["prev_hash"] != prev or digest != entry["hash"]:
            return n
        prev = entry["hash"]
    return None


def checkpointed(container, config, entries):
    """Take a checkpoint now (the timer's use case, on the service's database) and return it."""
    from audit import usecases
    from audit.repository import SqlRepository

    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            usecases_uow = _Uow(SqlRepository(conn))
            usecases.take_checkpoint(usecases_uow, Clock.now())
    finally:
        engine.dispose()
    found = call(container, "get_checkpoint", "audit")
    assert found["entries"] == entries
    return found


class _Uow:
    def __init__(self, repo):
        self.repo = repo


# --- the trail --------------------------------------------------------------------------------------


def test_every_event_is_chained_and_an_outsider_can_recheck_it(audit):
    entries = a_trail(audit, 4)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert set(entries[0]) == {
        "seq",
        "event_id",
        "event_type",
        "version",
        "source",
        "project_id",
        "actor",
        "occurred_at",
        "received_at",
        "data",
        "prev_hash",
        "hash",
    }
    assert entries[1]["data"] == {"n": 0, "意见": "可行"}
    assert outsider_check(entries) is None
    assert verify(audit) == {
        "ok": True,
        "entries": 4,
        "first_bad": None,
        "head": entries[-1]["hash"],
        "checked_against": 4,
    }


def test_a_redelivered_event_is_recorded_once(audit, config):
    declared(audit)
    payload = deliver(audit, envelope("review.submitted", source="review", data={"review_id": "r"}))
    deliver(audit, payload)
    assert [e["event_type"] for e in call(audit, "get_trail", "audit", project_id=PROJECT)] == [
        "project.declared",
        "review.submitted",
    ]


def test_an_event_of_a_service_audit_does_not_know_is_chained_as_sent(audit):
    declared(audit)
    deliver(audit, envelope("future.decided", source="audit", data={"x": [1, 2]}, version=3))
    last = call(audit, "get_trail", "audit", project_id=PROJECT)[-1]
    assert (last["event_type"], last["version"], last["data"]) == ("future.decided", 3, {"x": [1, 2]})


def test_out_of_order_events_are_chained_as_they_arrive_with_their_occurrence_kept(audit):
    declared(audit)
    later = envelope("review.passed", source="review", occurred_at="2027-03-01T10:00:00+08:00")
    earlier = envelope("review.submitted", source="review", occurred_at="2027-03-01T09:00:00+08:00")
    deliver(audit, later)
    deliver(audit, earlier)
    entries = call(audit, "get_trail", "audit", project_id=PROJECT)
    assert [(e["event_type"], e["occurred_at"]) for e in entries[1:]] == [
        ("review.passed", "2027-03-01T10:00:00+08:00"),
        ("review.submitted", "2027-03-01T09:00:00+08:00"),
    ]


def test_concurrent_deliveries_for_one_project_never_fork(audit, config):
    declared(audit)
    payloads = [envelope("test_report.submitted", source="review", data={"n": n}) for n in range(40)]
    dispatch = event_dispatcher(config)
    for payload in payloads:  # the handler's workers take them at once
        dispatch("review", payload["event_type"], payload)
    eventually(lambda: query(config, select(func.count()).select_from(trail))[0][0] == 41, what="41 entries")
    entries = call(audit, "get_trail", "audit", project_id=PROJECT)
    assert [e["seq"] for e in entries] == list(range(1, 42))
    assert outsider_check(entries) is None and verify(audit)["ok"]


def test_pages_and_bounds(audit):
    a_trail(audit, 5)
    page = call(audit, "get_trail", "audit", project_id=PROJECT, after_seq=2, limit=2)
    assert [e["seq"] for e in page] == [3, 4]
    for kwargs, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after_seq": -1}, "after_seq"),
        ({"after_seq": "1"}, "after_seq"),
        ({"project_id": "x" * 65}, "project_id"),
        ({"project_id": " prj"}, "project_id"),
    ):
        with pytest.raises(ValidationError) as refused:
            call(audit, "get_trail", "audit", **{"project_id": PROJECT, **kwargs})
        assert field in str(refused.value)


def test_events_naming_no_project_are_on_the_suite_trail_for_audit(audit):
    deliver(audit, envelope("plan.compiled", project_id=None, data={"year": 2027, "project_ids": [PROJECT]}))
    bare = envelope("plan.concurred", data={"year": 2027, "org": "drc", "concurred_by": ["drc"]})
    del bare["project_id"], bare["actor"]  # both may be missing from an envelope
    deliver(audit, bare)
    entries = call(audit, "get_trail", "audit", project_id=None)
    assert [(e["event_type"], e["project_id"], e["actor"]) for e in entries] == [
        ("plan.compiled", None, "li@unit:edu"),
        ("plan.concurred", None, None),
    ]
    assert verify(audit, None)["ok"]
    with pytest.raises(NotFound):
        call(audit, "get_trail", "smart_office", project_id=None)


# --- who reads a trail ------------------------------------------------------------------------------


@pytest.mark.parametrize("org", ["audit", "smart_office", "unit:edu"])
def test_audit_the_smart_office_and_the_owner_read_a_trail(audit, org):
    declared(audit)
    assert len(call(audit, "get_trail", org, project_id=PROJECT)) == 1
    assert verify(audit, org=org)["ok"]


@pytest.mark.parametrize("org", ["unit:health", "drc", "finance", "county_gov", "data_center"])
def test_anyone_else_is_told_nothing_exists(audit, org):
    declared(audit)
    with pytest.raises(NotFound):
        call(audit, "get_trail", org, project_id=PROJECT)
    with pytest.raises(NotFound):
        verify(audit, org=org)


def test_a_classified_trail_follows_the_setting(container_factory, service_config):
    container = container_factory(AuditService, service_config("audit", CLASSIFIED_VISIBLE_TO="drc"))
    container.start()
    declared(container, classified=True)
    assert call(container, "get_trail", "unit:edu", project_id=PROJECT)
    assert call(container, "get_trail", "audit", project_id=PROJECT)
    with pytest.raises(NotFound):
        call(container, "get_trail", "smart_office", project_id=PROJECT)
    with pytest.raises(NotFound):
        call(container, "list_anomalies", "smart_office", project_id=PROJECT)


# --- tampering with the database directly -------------------------------------------------------------


def tampered(audit, config, change, count=6):
    entries = a_trail(audit, count)
    assert verify(audit)["ok"]
    change(entries)
    return verify(audit)


def test_an_edited_entry_is_caught(audit, config):
    def edit(entries):
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq == 3).values(data='{"n":99}'))

    assert tampered(audit, config, edit) | {"head": None} == {
        "ok": False,
        "entries": 6,
        "first_bad": 3,
        "head": None,
        "checked_against": 6,
    }


def test_an_edited_actor_is_caught(audit, config):
    def edit(entries):
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq == 2).values(actor="x@unit:edu"))

    assert tampered(audit, config, edit)["first_bad"] == 2


def test_an_inserted_entry_is_caught(audit, config):
    def insert_one(entries):
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq >= 4).values(seq=trail.c.seq + 100))
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq >= 104).values(seq=trail.c.seq - 99))
        forged = {**entries[2], "seq": 4, "event_id": str(uuid.uuid4()), "prev_hash": entries[2]["hash"]}
        forged["data"] = {"forged": True}
        body = {k: v for k, v in forged.items() if k != "hash"}
        text_ = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        forged["hash"] = hashlib.sha256(text_.encode()).hexdigest()  # a well-formed entry, linked to seq 3
        query(config, insert(trail).values(trail=PROJECT, **{**forged, "data": '{"forged":true}'}))

    found = tampered(audit, config, insert_one)
    assert (found["ok"], found["entries"], found["first_bad"]) == (False, 7, 5)  # the next no longer links


def test_reordered_entries_are_caught(audit, config):
    def swap(entries):
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq == 2).values(seq=1000))
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq == 3).values(seq=2))
        query(config, update(trail).where(trail.c.trail == PROJECT, trail.c.seq == 1000).values(seq=3))

    assert tampered(audit, config, swap)["first_bad"] == 2


def test_an_entry_deleted_in_the_middle_is_caught(audit, config):
    def drop(entries):
        query(config, delete(trail).where(trail.c.trail == PROJECT, trail.c.seq == 4))

    found = tampered(audit, config, drop)
    assert (found["ok"], found["entries"], found["first_bad"]) == (False, 5, 4)


def test_a_deleted_tail_is_caught_by_the_checkpoint_even_with_the_head_moved_back(audit, config):
    def drop_tail(entries):
        checkpointed(audit, config, 6)
        query(config, delete(trail).where(trail.c.trail == PROJECT, trail.c.seq >= 5))
        query(
            config,
            update(trail_heads).where(trail_heads.c.trail == PROJECT).values(length=4, head=entries[3]["hash"]),
        )

    found = tampered(audit, config, drop_tail)
    assert (found["ok"], found["entries"], found["first_bad"], found["checked_against"]) == (False, 4, 5, 6)


def test_a_deleted_tail_is_caught_by_the_live_head_before_any_checkpoint(audit, config):
    def drop_tail(entries):
        query(config, delete(trail).where(trail.c.trail == PROJECT, trail.c.seq == 6))

    assert tampered(audit, config, drop_tail)["first_bad"] == 6


def test_a_chain_rewritten_from_an_edit_is_caught_by_the_checkpoint(audit, config):
    def rewrite(entries):
        checkpointed(audit, config, 6)
        prev = entries[1]["hash"]
        for entry in entries[2:]:  # seq 3 edited, every later hash recomputed, the head moved too
            forged = {**entry, "prev_hash": prev}
            if entry["seq"] == 3:
                forged["data"] = {"n": 1, "意见": "不可行"}
            body = {k: v for k, v in forged.items() if k != "hash"}
            forged["hash"] = hashlib.sha256(
                json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            ).hexdigest()
            stored = json.dumps(forged["data"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            query(
                config,
                update(trail)
                .where(trail.c.trail == PROJECT, trail.c.seq == entry["seq"])
                .values(data=stored, prev_hash=forged["prev_hash"], hash=forged["hash"]),
            )
            prev = forged["hash"]
        query(config, update(trail_heads).where(trail_heads.c.trail == PROJECT).values(head=prev))
        assert outsider_check(call(audit, "get_trail", "audit", project_id=PROJECT)) is None  # a chain still

    found = tampered(audit, config, rewrite)
    assert (found["ok"], found["first_bad"]) == (False, 6)


def test_checkpoints_are_appended_with_a_root_and_shown_as_a_gauge(container_factory, service_config):
    config = service_config("audit", CHECKPOINT_SECONDS=0.1)
    container = container_factory(AuditService, config)
    container.start()
    a_trail(container, 3)
    first = eventually(
        lambda: (c := call(container, "get_checkpoint", "audit")) and c["entries"] == 3 and c, what="a checkpoint"
    )
    assert first["projects"] == 1 and len(first["root"]) == 64
    metrics = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    latest = call(container, "get_checkpoint", "audit")
    assert f'nx_audit_checkpoint_root{{root="{latest["root"]}"}} {float(latest["seq"])}' in metrics
    assert "nx_audit_trail_entries 3.0" in metrics
    deliver(container, envelope("review.submitted", source="review"))
    eventually(lambda: call(container, "get_checkpoint", "audit")["entries"] == 4, what="the next checkpoint")
    # a checkpoint is appended only when a trail grew: each names the one trail that did
    heads = query(config, select(checkpoint_heads.c.trail, checkpoint_heads.c.length))
    lengths = [length for _, length in heads]
    assert {t for t, _ in heads} == {PROJECT} and lengths == sorted(set(lengths)) and lengths[-1] == 4
    assert query(config, select(func.count()).select_from(checkpoints))[0][0] == len(heads)


# --- bad deliveries ---------------------------------------------------------------------------------


def test_what_is_not_an_envelope_is_parked_and_never_chained(audit, config):
    declared(audit)
    dispatch = event_dispatcher(config)
    for bad in ("not an envelope", ["a", "list"], {"event_type": "project.planned"}, envelope("x.y", version=0)):
        dispatch("planning", "project.planned", bad)

    def parked():
        with Connection(config["AMQP_URI"]) as conn:
            channel = conn.channel()
            return channel.queue_declare("nx.audit.record_trail.dead", passive=True).message_count == 4

    eventually(parked, timeout=15, what="four parked deliveries")
    assert len(call(audit, "get_trail", "audit", project_id=PROJECT)) == 1
    assert query(config, select(func.count()).select_from(trail))[0][0] == 1


# --- cases (Art 26) ---------------------------------------------------------------------------------


def accepted(container, project_id=PROJECT):
    payload = envelope(
        "acceptance.passed",
        project_id,
        {"acceptance_id": "acc-1", "precheck_id": "pc-1", "date": "2027-05-30", "minutes": "通过"},
        source="review",
    )
    deliver_to(container, "open_case", payload)
    return payload


def test_an_accepted_project_is_audited_and_each_decision_is_on_its_trail(audit, config):
    declared(audit)
    acceptance = accepted(audit)
    accepted_again = {**acceptance}
    deliver_to(audit, "open_case", accepted_again)  # redelivered: one case
    [case] = call(audit, "list_cases", "audit", status="open")
    assert (case["project_id"], case["acceptance_event_id"], case["accepted_on"]) == (
        PROJECT,
        acceptance["event_id"],
        "2027-05-30",
    )
    case = call(
        audit, "record_finding", "audit", case_id=case["case_id"], severity="medium", description="付款节点滞后"
    )
    closed = call(audit, "close_case", "audit", case_id=case["case_id"], conclusion="基本合规")
    assert (closed["status"], closed["conclusion"], closed["closed_by"]) == ("closed", "基本合规", "tester@audit")
    assert [f["severity"] for f in closed["findings"]] == ["medium"]
    metrics = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    assert 'nx_audit_cases{status="closed"} 1.0' in metrics and 'nx_audit_cases{status="open"} 0.0' in metrics
    assert call(audit, "list_cases", "audit", status="open") == []
    types = [p["event_type"] for (p,) in query(config, select(outbox.c.payload).order_by(outbox.c.id))]
    assert types == ["audit.opened", "audit.closed"]
    # audit's own events come back to its trail like any other service's (and review's acceptance)
    eventually(
        lambda: (
            sorted(e["event_type"] for e in call(audit, "get_trail", "audit", project_id=PROJECT))
            == ["acceptance.passed", "audit.closed", "audit.opened", "project.declared"]
        ),
        what="audit's events on the trail",
    )
    assert verify(audit)["ok"]


def test_a_closed_case_refuses_more_and_a_refusal_changes_nothing(audit, config):
    accepted(audit)
    [case] = call(audit, "list_cases", "audit")
    call(audit, "close_case", "audit", case_id=case["case_id"], conclusion="合规")
    with pytest.raises(Conflict) as refused:
        call(audit, "record_finding", "audit", case_id=case["case_id"], severity="low", description="迟到")
    assert "CASE_CLOSED" in str(refused.value)
    with pytest.raises(Conflict):
        call(audit, "close_case", "audit", case_id=case["case_id"], conclusion="再次")
    with pytest.raises(NotFound):
        call(audit, "close_case", "audit", case_id="aud-none", conclusion="x")
    [after] = call(audit, "list_cases", "audit")
    assert after["findings"] == [] and after["conclusion"] == "合规"


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("record_finding", {"severity": "grave", "description": "x"}, "severity"),
        ("record_finding", {"severity": "low", "description": "  "}, "description"),
        ("record_finding", {"severity": "low", "description": "x" * 5001}, "description"),
        ("close_case", {"conclusion": ""}, "conclusion"),
        ("close_case", {"conclusion": "x" * 5001}, "conclusion"),
    ],
)
def test_bad_case_input_is_refused_naming_the_field(audit, config, method, kwargs, field):
    accepted(audit)
    [case] = call(audit, "list_cases", "audit")
    with pytest.raises(ValidationError) as refused:
        call(audit, method, "audit", case_id=case["case_id"], **kwargs)
    assert field in str(refused.value)
    [after] = call(audit, "list_cases", "audit")
    assert after == case
    with pytest.raises(ValidationError):
        call(audit, "list_cases", "audit", status="pending")


@pytest.mark.parametrize("org", ["smart_office", "data_center", "drc", "finance", "county_gov", "unit:edu"])
def test_only_audit_decides_cases(audit, org):
    with pytest.raises(Forbidden):
        call(audit, "list_cases", org)
    with pytest.raises(Forbidden):
        call(audit, "close_case", org, case_id="aud-1", conclusion="x")


# --- anomalies --------------------------------------------------------------------------------------


def test_anomalies_from_forged_events_name_their_rule_article_and_events(audit):
    declared(audit)
    granted = deliver(audit, envelope("approval.granted", source="approval"))
    paid = deliver(audit, envelope("funds.disbursed", source="finance", data={"amount": "10.00"}))
    found = call(audit, "list_anomalies", "audit", project_id=PROJECT)
    assert {(a["rule"], a["article"], tuple(a["event_ids"])) for a in found} == {
        ("APPROVED_BEFORE_REVIEW", "Art 13", (granted["event_id"],)),
        ("DISBURSED_BEFORE_CONTRACT", "Art 15, 27", (paid["event_id"],)),
        ("DISBURSED_OVER_BUDGET", "Art 14, 27", (paid["event_id"],)),
    }
    assert {a["project_id"] for a in call(audit, "list_anomalies", "smart_office")} == {PROJECT}
    with pytest.raises(Forbidden):
        call(audit, "list_anomalies", "unit:edu", project_id=PROJECT)
    with pytest.raises(NotFound):
        call(audit, "list_anomalies", "audit", project_id="prj-none")


# --- migrations ---------------------------------------------------------------------------------


def test_the_migrated_schema_matches_the_models(config):
    from audit.models import metadata

    assert schema_drift(config["DATABASE_URL"], metadata) == []
