"""Audit's rules, one test (at least) per rule: the hash chain and what its verification catches, the
checkpoints, the case's life (Art 26), each anomaly (Art 13–15, 18, 21, 27), who reads a trail."""

import datetime as dt
import hashlib
import json

import pytest

from audit import domain
from audit.domain import GENESIS, AuditRules, Case, CaseStatus, Head, Project
from audit.domain.chain import FIELDS
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound

NOW = dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC)
RULES = AuditRules.from_settings("smart_office,county_gov,data_center,drc,finance,audit")
AUDITOR = Caller("qian", "audit")


def event(n, event_type="project.declared", project_id="prj-1", data=None, occurred_at=None):
    return {
        "event_id": f"evt-{n}",
        "event_type": event_type,
        "version": 1,
        "source": "planning",
        "project_id": project_id,
        "actor": "li@unit:edu",
        "occurred_at": occurred_at or f"2027-01-01T00:00:{n % 60:02d}+08:00",
        "data": {"名称": "智慧教育平台", "n": n, "note": 'a "quoted"\nline \\ é', "amount": "1.00"}
        if data is None
        else data,
    }


def chained(count):
    head, entries = Head(), []
    for n in range(1, count + 1):
        entry = domain.chain_next(head, event(n), f"2027-01-01T00:01:{n % 60:02d}+00:00")
        entries.append(entry)
        head = Head(entry["seq"], entry["hash"])
    return entries


def rows(entries):
    return [tuple(domain.data_text(e["data"]) if k == "data" else e[k] for k in FIELDS) for e in entries]


def outsider_check(entries):
    """The ten lines an outsider writes from the README's rule, on what get_trail returns."""
    prev = "0" * 64
    for n, entry in enumerate(entries, start=1):
        body = {k: v for k, v in entry.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if (
            entry["seq"] != n
            or entry["prev_hash"] != prev
            or hashlib.sha256(text.encode()).hexdigest() != entry["hash"]
        ):
            return n
        prev = entry["hash"]
    return None


# --- the chain (Art 27) -----------------------------------------------------------------------------


def test_an_entry_links_to_the_one_before_and_hashes_by_the_rule():
    entries = chained(3)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == GENESIS == "0" * 64
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    assert set(entries[0]) == set(FIELDS)
    assert outsider_check(entries) is None
    assert domain.verify(entries).ok


def test_the_stored_rows_hash_to_the_same_bytes_as_the_rule():
    entries = chained(30)
    assert [domain.entry_hash(e) for e in entries] == [e["hash"] for e in entries]
    assert domain.verify_rows(rows(entries)) == domain.verify(entries)
    odd = domain.chain_next(Head(), {**event(1, data={"x": None, "y": [True, 1.5, "\u2028\t"]}), "actor": None}, "t")
    assert domain.verify_rows(rows([odd])).ok


@pytest.mark.parametrize("check", [domain.verify, lambda es, cps=(): domain.verify_rows(rows(es), cps)])
class TestWhatVerificationCatches:
    def test_an_edited_entry(self, check):
        entries = chained(5)
        entries[2] = {**entries[2], "data": {**entries[2]["data"], "amount": "9999.00"}}
        found = check(entries)
        assert (found.ok, found.first_bad) == (False, 3)

    def test_an_edited_hash(self, check):
        entries = chained(5)
        entries[3] = {**entries[3], "hash": "f" * 64}
        assert check(entries).first_bad == 4

    def test_an_inserted_entry(self, check):
        entries = chained(5)
        forged = domain.chain_next(Head(2, entries[1]["hash"]), event(99), "t")
        tampered = [*entries[:2], forged, *({**e, "seq": e["seq"] + 1} for e in entries[2:])]
        assert check(tampered).first_bad == 4  # the forged one links; the one after it no longer does

    def test_two_entries_swapped(self, check):
        entries = chained(5)
        swapped = [*entries[:1], {**entries[2], "seq": 2}, {**entries[1], "seq": 3}, *entries[3:]]
        assert check(swapped).first_bad == 2

    def test_an_entry_deleted_in_the_middle(self, check):
        entries = chained(5)
        assert check([*entries[:2], *entries[3:]]).first_bad == 3

    def test_the_tail_deleted_is_caught_by_a_checkpoint_only(self, check):
        entries = chained(5)
        assert check(entries[:3]).ok  # without a checkpoint a shorter chain is still a chain
        found = check(entries[:3], [Head(5, entries[4]["hash"])])
        assert (found.ok, found.first_bad, found.checked_against) == (False, 4, 5)

    def test_a_chain_rewritten_from_an_edit_is_caught_by_a_checkpoint(self, check):
        entries = chained(6)
        head, rewritten = Head(1, entries[0]["hash"]), entries[:1]
        for n, original in enumerate(entries[1:], start=2):
            forged = {**original, "data": {"amount": "1.00"}} if n == 2 else original
            entry = domain.chain_next(head, forged, original["received_at"])
            rewritten.append(entry)
            head = Head(entry["seq"], entry["hash"])
        assert check(rewritten).ok
        found = check(rewritten, [Head(3, entries[2]["hash"]), Head(6, entries[5]["hash"])])
        assert (found.ok, found.first_bad) == (False, 3)  # the earliest checkpoint it no longer ends in

    def test_a_trail_longer_than_its_checkpoint_is_fine(self, check):
        entries = chained(5)
        assert check(entries, [Head(3, entries[2]["hash"]), Head(0, GENESIS)]).ok


def test_an_empty_trail_is_ok_until_a_checkpoint_says_it_had_entries():
    assert domain.verify([]).ok
    assert domain.verify([], [Head(1, "a" * 64)]).first_bad == 1


# --- checkpoints ------------------------------------------------------------------------------------


def test_the_root_is_the_hash_of_every_head_sorted():
    heads = {"prj-b": Head(2, "b" * 64), "prj-a": Head(1, "a" * 64)}
    text = json.dumps([["prj-a", 1, "a" * 64], ["prj-b", 2, "b" * 64]], separators=(",", ":"))
    assert domain.root_of(heads) == hashlib.sha256(text.encode()).hexdigest()
    assert domain.root_of({**heads, "prj-a": Head(2, "c" * 64)}) != domain.root_of(heads)


def test_a_checkpoint_names_only_the_trails_that_changed():
    live = {"a": Head(2, "x" * 64), "b": Head(1, "y" * 64), "c": Head(1, "z" * 64)}
    assert domain.changed_heads(live, {"a": Head(2, "x" * 64), "b": Head(0, GENESIS)}) == {
        "b": Head(1, "y" * 64),
        "c": Head(1, "z" * 64),
    }
    assert domain.changed_heads(live, live) == {}


# --- cases (Art 26) ---------------------------------------------------------------------------------


def an_open_case():
    case, opened = domain.open_case("prj-1", "evt-acc", "2027-05-30", None, NOW)
    assert case is not None and opened is not None
    return case, opened


def test_an_accepted_project_gets_one_case():
    case, opened = an_open_case()
    assert (case.status, opened.event_type, opened.case_id, opened.accepted_on) == (
        "open",
        "audit.opened",
        case.case_id,
        "2027-05-30",
    )
    assert domain.open_case("prj-1", "evt-acc-2", None, case, NOW) == (None, None)


def test_findings_then_a_conclusion_close_the_case():
    case, _ = an_open_case()
    domain.record_finding(case, "medium", "合同付款节点与进度不符", AUDITOR, NOW)
    domain.record_finding(case, "high", "运维费用超出合同约定", AUDITOR, NOW)
    closed, event = domain.close_case(case, "基本合规，责令整改", AUDITOR, NOW)
    assert closed.status == CaseStatus.CLOSED.value
    assert (event.event_type, event.findings, event.worst_severity, event.actor) == (
        "audit.closed",
        2,
        "high",
        "qian@audit",
    )
    assert closed.findings[0].recorded_by == "qian@audit"


def test_a_closed_case_takes_nothing_more():
    case, _ = an_open_case()
    domain.close_case(case, "合规", AUDITOR, NOW)
    with pytest.raises(Conflict) as refused:
        domain.record_finding(case, "low", "迟到的发现", AUDITOR, NOW)
    assert refused.value.code == "CASE_CLOSED"
    with pytest.raises(Conflict):
        domain.close_case(case, "再次结案", AUDITOR, NOW)


def test_the_case_table_allows_only_what_art_26_says():
    assert set(domain.TRANSITIONS) == {
        (CaseStatus.OPEN, domain.CaseAction.RECORD_FINDING),
        (CaseStatus.OPEN, domain.CaseAction.CLOSE),
    }
    with pytest.raises(NotFound):
        domain.record_finding(None, "low", "x", AUDITOR, NOW)


# --- anomalies (Art 27) -----------------------------------------------------------------------------


def trail_of(*steps):
    """Entries of one project in the order given (seq), each occurring a minute after the one before
    unless a step says when."""
    entries = []
    for n, step in enumerate(steps, start=1):
        event_type, data = step[0], step[1] if len(step) > 1 else {}
        at = step[2] if len(step) > 2 else (NOW + dt.timedelta(minutes=n)).isoformat()
        entries.append({"seq": n, "event_id": f"e{n}", "event_type": event_type, "occurred_at": at, "data": data})
    return entries


LAWFUL = (
    ("project.declared",),
    ("project.planned",),
    ("review.submitted",),
    ("review.passed",),
    ("approval.granted",),
    ("budget.approved", {"approved_amount": "2000000.00"}),
    ("procurement.registered", {"amount": "1800000.00"}),
    ("contract.registered", {"amount": "1800000.00"}),
    ("funds.disbursed", {"amount": "1000000.00"}),
    ("funds.disbursed", {"amount": "1000000.00"}),
    ("change.unauthorized_reported", {"report_id": "uc-1"}),
    ("change.unauthorized_resolved", {"report_ids": ["uc-1"]}),
    ("acceptance.prechecked", {"passed": True, "verdict": "passed"}),
    ("acceptance.passed", {"date": "2027-05-30"}),
)


def rules_found(entries):
    return [(a.rule, a.event_ids) for a in domain.anomalies_of("prj-1", entries)]


def test_a_project_run_by_the_rules_has_no_anomaly():
    assert rules_found(trail_of(*LAWFUL)) == []


def test_a_filed_review_allows_the_approval_too():
    assert rules_found(trail_of(("review.filed",), ("approval.granted",))) == []


def test_a_contract_without_procurement():
    assert rules_found(trail_of(("contract.registered",), ("procurement.registered",))) == [
        ("CONTRACT_WITHOUT_PROCUREMENT", ("e1",))
    ]


def test_a_disbursement_before_the_contract():
    found = rules_found(
        trail_of(
            ("budget.approved", {"approved_amount": "100.00"}),
            ("procurement.registered",),
            ("funds.disbursed", {"amount": "10.00"}),
            ("contract.registered",),
        )
    )
    assert found == [("DISBURSED_BEFORE_CONTRACT", ("e3",))]


def test_disbursed_above_the_approved_budget():
    found = rules_found(
        trail_of(
            ("budget.approved", {"approved_amount": "100.00"}),
            ("procurement.registered",),
            ("contract.registered",),
            ("funds.disbursed", {"amount": "60.00"}),
            ("funds.disbursed", {"amount": "40.00"}),
            ("funds.disbursed", {"amount": "0.01"}),
        )
    )
    assert found == [("DISBURSED_OVER_BUDGET", ("e1", "e6"))]


def test_approval_before_a_passed_review():
    found = rules_found(trail_of(("review.submitted",), ("review.failed",), ("approval.granted",), ("review.passed",)))
    assert found == [("APPROVED_BEFORE_REVIEW", ("e3",))]


def test_acceptance_without_a_passed_precheck():
    found = rules_found(
        trail_of(("acceptance.prechecked", {"passed": False, "verdict": "failed"}), ("acceptance.passed",))
    )
    assert found == [("ACCEPTED_WITHOUT_PRECHECK", ("e2",))]


def test_acceptance_while_an_unauthorized_change_is_open():
    found = rules_found(
        trail_of(
            ("change.unauthorized_reported", {"report_id": "uc-1"}),
            ("change.unauthorized_reported", {"report_id": "uc-2"}),
            ("change.unauthorized_resolved", {"report_ids": ["uc-1"]}),
            ("acceptance.prechecked", {"passed": True}),
            ("acceptance.passed",),
        )
    )
    assert found == [("ACCEPTED_WITH_UNAUTHORIZED_CHANGE", ("e2", "e5"))]


def test_the_rules_read_the_order_events_occurred_in_not_their_arrival():
    early = (NOW + dt.timedelta(minutes=1)).isoformat()
    late = (NOW + dt.timedelta(minutes=5)).isoformat()
    arrived = trail_of(("contract.registered", {}, late), ("procurement.registered", {}, early))
    assert rules_found(arrived) == []
    swapped = trail_of(("contract.registered", {}, early), ("procurement.registered", {}, late))
    assert rules_found(swapped) == [("CONTRACT_WITHOUT_PROCUREMENT", ("e1",))]


def test_each_anomaly_names_its_article():
    found = domain.anomalies_of("prj-1", trail_of(("funds.disbursed", {"amount": "1.00"})))
    assert {(a.rule, a.article) for a in found} == {
        ("DISBURSED_BEFORE_CONTRACT", "Art 15, 27"),
        ("DISBURSED_OVER_BUDGET", "Art 14, 27"),
    }
    assert all(a.project_id == "prj-1" and a.description for a in found)


# --- who reads a trail (Art 4, 25) ------------------------------------------------------------------

OPEN = Project("prj-1", "unit:edu", "self_built", False)
SECRET = Project("prj-2", "unit:edu", "self_built", True)
UNIFIED = Project("prj-3", "unit:edu", "unified", False)


@pytest.mark.parametrize(
    ("org", "project", "readable"),
    [
        ("audit", OPEN, True),
        ("audit", SECRET, True),
        ("smart_office", OPEN, True),
        ("unit:edu", OPEN, True),
        ("unit:health", OPEN, False),
        ("drc", OPEN, False),
        ("finance", OPEN, False),
        ("data_center", OPEN, False),
        ("data_center", UNIFIED, True),  # it builds it
        ("unit:edu", SECRET, True),
        ("audit", None, True),
        ("smart_office", None, False),
    ],
)
def test_who_reads_a_trail(org, project, readable):
    assert domain.can_read_trail(Caller("x", org), "prj", project, RULES) is readable


def test_a_classified_trail_is_read_by_the_smart_office_only_when_named():
    assert domain.can_read_trail(Caller("x", "smart_office"), "prj-2", SECRET, RULES)
    assert not domain.can_read_trail(Caller("x", "smart_office"), "prj-2", SECRET, AuditRules(("drc",)))
    assert domain.can_read_trail(Caller("x", "audit"), "prj-2", SECRET, AuditRules(()))


def test_the_suite_trail_is_audits_alone():
    assert domain.can_read_trail(AUDITOR, domain.SUITE_TRAIL, None, RULES)
    assert not domain.can_read_trail(Caller("x", "smart_office"), domain.SUITE_TRAIL, None, RULES)


def test_the_owner_is_learned_from_the_declaration():
    project = domain.learn_project(
        Project("prj-1"),
        "project.declared",
        {"unit": "unit:edu", "construction_mode": "unified", "classified": True},
    )
    assert (project.unit, project.construction_mode, project.classified) == ("unit:edu", "unified", True)
    same = domain.learn_project(project, "review.passed", {"unit": "unit:other"})
    assert same.unit == "unit:edu"


def test_a_case_keeps_its_acceptance():
    case = Case("aud-1", "prj-1", "open", NOW, "evt-acc")
    assert case.findings == [] and case.accepted_on is None
