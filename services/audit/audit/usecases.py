"""Audit's use cases, one function each: load through ``uow.repo``, let the domain decide, keep the
result, and ``uow.emit`` the events the decision caused. The entrypoints in ``audit.service`` only
decode, authorize, open the unit of work and dump; the tests drive these with a fake unit of work.

**The lock.** An entry is appended under its trail's head row (``locked_head``: ``SELECT … FOR
UPDATE`` on PostgreSQL, after inserting it if absent; on SQLite the unit of work is a write
transaction from its first statement), so two deliveries for the same project chain one after the
other and ``seq`` / ``prev_hash`` never fork (the trail's key ``(project_id, seq)`` would refuse a
fork anyway). A case's decisions lock the case (``locked_case``). Reads take no lock.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from audit import domain
from audit.domain import Anomaly, AuditRules, Case, Checkpoint, Finding, Head, Project, Verification, reminders
from nxshared.core.caller import Caller
from nxshared.core.errors import NotFound
from nxshared.core.events import Event
from nxshared.core.reminders import send_reminders
from nxshared.core.uow import UnitOfWork


class Repository(Protocol):
    # --- the trail ---
    def locked_head(self, trail: str) -> Head:
        """The trail's head (length 0 and ``GENESIS`` for a new one), locked until the unit of work ends."""

    def append(self, trail: str, entry: Mapping[str, Any]) -> None:
        """Insert ``entry`` and move the trail's head to it."""

    def head(self, trail: str) -> Head | None: ...
    def entries(self, trail: str, after_seq: int, limit: int) -> list[dict[str, Any]]: ...
    def rows(self, trail: str) -> list[tuple]:
        """Every stored entry of the trail in ``seq`` order, as ``chain.verify_rows`` reads them."""

    def watched_entries(self, event_types: Iterable[str], project_id: str | None) -> dict[str, list[dict]]:
        """Entries of these types, of one project or all, by project."""

    # --- projects ---
    def project(self, project_id: str) -> Project | None: ...
    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]: ...
    def save_project(self, project: Project) -> None: ...

    # --- checkpoints ---
    def live_heads(self) -> dict[str, Head]: ...
    def checkpointed_heads(self) -> dict[str, Head]:
        """Each trail's head as its latest checkpoint recorded it."""

    def checkpoint_history(self, trail: str) -> list[Head]:
        """Every head the checkpoints recorded for the trail, oldest first."""

    def add_checkpoint(
        self, taken_at: dt.datetime, root: str, heads: Mapping[str, Head], projects: int, entries: int
    ) -> Checkpoint: ...
    def latest_checkpoint(self) -> Checkpoint | None: ...

    # --- cases ---
    def case_of_project(self, project_id: str) -> Case | None: ...
    def add_case(self, case: Case) -> None: ...
    def locked_case(self, case_id: str) -> Case | None: ...
    def add_finding(self, finding: Finding) -> None: ...
    def save_case(self, case: Case) -> None: ...
    def cases(self, status: str | None) -> list[Case]: ...


Uow = UnitOfWork[Repository]


# --- the trail (Art 27) -------------------------------------------------------------------------


def record_trail(uow: Uow, evt: Event, received_at: str) -> dict[str, Any] | None:
    """Chain one event onto its project's trail, once (a redelivery changes nothing). ``evt`` is the
    envelope as it arrived (read by its envelope only: its data and version as sent, not as this
    service's schemas would read them)."""
    if not uow.first_time(evt):
        return None
    trail = evt.project_id or domain.SUITE_TRAIL
    entry = domain.chain_next(uow.repo.locked_head(trail), evt.as_payload(), received_at)
    uow.repo.append(trail, entry)
    if evt.project_id and evt.event_type in domain.TELLS_OWNER:
        project = uow.repo.project(evt.project_id) or Project(evt.project_id)
        uow.repo.save_project(domain.learn_project(project, evt.event_type, entry["data"]))
    return entry


def _readable(repo: Repository, trail: str, caller: Caller, rules: AuditRules) -> Head:
    project = repo.project(trail) if trail else None
    domain.check_trail_readable(caller, trail, project, rules)
    head = repo.head(trail)
    if head is None:
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    return head


def get_trail(
    repo: Repository, project_id: str | None, after_seq: int, limit: int, caller: Caller, rules: AuditRules
) -> list[dict[str, Any]]:
    """Art 27: the project's entries after ``after_seq``, in ``seq`` order, at most ``limit``."""
    trail = project_id or domain.SUITE_TRAIL
    _readable(repo, trail, caller, rules)
    return repo.entries(trail, after_seq, limit)


def verify_trail(repo: Repository, project_id: str | None, caller: Caller, rules: AuditRules) -> Verification:
    """Art 27: re-check the chain and hold it to the trail's live head and every checkpoint of it.
    The head is read before the entries: a trail that grew in between is longer, never shorter."""
    trail = project_id or domain.SUITE_TRAIL
    head = _readable(repo, trail, caller, rules)
    checkpoints = [*repo.checkpoint_history(trail), head]
    return domain.verify_rows(repo.rows(trail), checkpoints)


# --- checkpoints ------------------------------------------------------------------------------------


def take_checkpoint(uow: Uow, taken_at: dt.datetime) -> Checkpoint | None:
    """Append a checkpoint when a trail grew since the last one: the changed trails' heads and the
    root over every head."""
    live = uow.repo.live_heads()
    changed = domain.changed_heads(live, uow.repo.checkpointed_heads())
    if not changed:
        return None
    entries = sum(head.length for head in live.values())
    return uow.repo.add_checkpoint(taken_at, domain.root_of(live), changed, len(live), entries)


def get_checkpoint(repo: Repository) -> Checkpoint | None:
    return repo.latest_checkpoint()


# --- anomalies (Art 27) -----------------------------------------------------------------------------


def list_anomalies(repo: Repository, project_id: str | None, caller: Caller, rules: AuditRules) -> list[Anomaly]:
    """The anomalies of one project's trail, or of every project ``caller`` may see."""
    by_project = repo.watched_entries(domain.WATCHED, project_id)
    if project_id is not None:
        project = repo.project(project_id)
        if not domain.can_see_anomalies(caller, project, rules) or repo.head(project_id) is None:
            raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
        return domain.anomalies_of(project_id, by_project.get(project_id, []))
    projects = repo.projects(by_project)
    found: list[Anomaly] = []
    for pid in sorted(by_project):
        if domain.can_see_anomalies(caller, projects.get(pid), rules):
            found.extend(domain.anomalies_of(pid, by_project[pid]))
    return found


# --- cases (Art 26) ---------------------------------------------------------------------------------


def on_acceptance_passed(uow: Uow, evt: Event, now: dt.datetime) -> Case | None:
    """Art 26: an accepted project is handed to the auditor: its case opens, once."""
    if not uow.first_time(evt) or not evt.project_id:
        return None
    accepted_on = evt.data.get("date") if isinstance(evt.data.get("date"), str) else None
    case, opened = domain.open_case(
        evt.project_id, evt.event_id, accepted_on, uow.repo.case_of_project(evt.project_id), now
    )
    if case is None or opened is None:
        return None
    uow.repo.add_case(case)
    uow.emit(opened)
    return case


def record_finding(uow: Uow, case_id: str, severity: str, description: str, caller: Caller, now: dt.datetime) -> Case:
    case = uow.repo.locked_case(case_id)
    finding = domain.record_finding(case, severity, description, caller, now)
    uow.repo.add_finding(finding)
    assert case is not None
    return case


def close_case(uow: Uow, case_id: str, conclusion: str, caller: Caller, now: dt.datetime) -> Case:
    case, closed = domain.close_case(uow.repo.locked_case(case_id), conclusion, caller, now)
    uow.repo.save_case(case)
    uow.emit(closed)
    return case


def list_cases(repo: Repository, status: str | None) -> list[Case]:
    return repo.cases(status)


# --- reminders (reminder.due) ----------------------------------------------------------------------


def send_case_reminders(uow: Uow, today: dt.date, rules: reminders.ReminderRules) -> list[Event]:
    """Art 26: a reminder for each case open too long, sent once; those sent now."""
    still_open = uow.repo.cases(domain.CaseStatus.OPEN.value)
    return send_reminders(uow, reminders.case_reminders(still_open, today, rules))
