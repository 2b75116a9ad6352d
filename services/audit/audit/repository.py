"""Audit's storage on SQLAlchemy Core (``usecases.Repository``), on a connection: the trail handler
runs in a unit of work without an ORM session (``transaction(SqlRepository, orm=False)``), and so
does everything else here.

**The lock.** An append first takes its trail's head row (inserted if absent, then ``SELECT … FOR
UPDATE`` on PostgreSQL; on SQLite the unit of work is a write transaction from its first
statement); a case's decisions take the case's row. The trail and the checkpoints are only ever
inserted into: no statement here updates or deletes a row of either.
"""

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from audit.domain import Case, Checkpoint, Finding, Head, Project, data_text
from audit.models import cases, checkpoint_heads, checkpoints, findings, projects, trail, trail_heads
from nxshared.tables import insert_if_absent

NEW_HEAD = insert_if_absent(trail_heads, "trail")
LOCK_HEAD = (
    select(trail_heads.c.length, trail_heads.c.head).where(trail_heads.c.trail == bindparam("t")).with_for_update()
)
READ_HEAD = select(trail_heads.c.length, trail_heads.c.head).where(trail_heads.c.trail == bindparam("t"))
ADD_ENTRY = insert(trail)
MOVE_HEAD = (
    update(trail_heads).where(trail_heads.c.trail == bindparam("t")).values(length=bindparam("n"), head=bindparam("h"))
)
ENTRY_COLUMNS = (
    trail.c.seq,
    trail.c.event_id,
    trail.c.event_type,
    trail.c.version,
    trail.c.source,
    trail.c.project_id,
    trail.c.actor,
    trail.c.occurred_at,
    trail.c.received_at,
    trail.c.data,
    trail.c.prev_hash,
    trail.c.hash,
)
ROWS = select(*ENTRY_COLUMNS).where(trail.c.trail == bindparam("t"))  # put in seq order by rows()
NEW_PROJECT = insert_if_absent(projects, "project_id")
FIELD_NAMES = [c.name for c in ENTRY_COLUMNS]


class SqlRepository:
    def __init__(self, holder: Session | Connection) -> None:
        self.connection = holder.connection() if isinstance(holder, Session) else holder

    # --- the trail ---------------------------------------------------------------------------------

    def locked_head(self, trail_key: str) -> Head:
        self.connection.execute(NEW_HEAD, {"trail": trail_key})
        length, head = self.connection.execute(LOCK_HEAD, {"t": trail_key}).one()
        return Head(length, head)

    def append(self, trail_key: str, entry: Mapping[str, Any]) -> None:
        row = {**entry, "trail": trail_key, "data": data_text(entry["data"])}
        self.connection.execute(ADD_ENTRY, row)
        self.connection.execute(MOVE_HEAD, {"t": trail_key, "n": entry["seq"], "h": entry["hash"]})

    def head(self, trail_key: str) -> Head | None:
        found = self.connection.execute(READ_HEAD, {"t": trail_key}).first()
        return None if found is None else Head(found.length, found.head)

    def entries(self, trail_key: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
        query = (
            select(*ENTRY_COLUMNS)
            .where(trail.c.trail == trail_key, trail.c.seq > after_seq)
            .order_by(trail.c.seq)
            .limit(limit)
        )
        return [_entry(row) for row in self.connection.execute(query)]

    def rows(self, trail_key: str) -> list[tuple]:
        """Read through the driver's own cursor, without a SQLAlchemy ``Row`` per entry, and put in
        ``seq`` order here: verify_trail reads a whole trail, and at 10,000 entries the row objects
        cost about as much as the driver's read itself, and PostgreSQL's sort of ~4 MB spilled to
        disk (``work_mem``) where Python's of the ``seq`` numbers, mostly in order already, takes
        ~1 ms. The statement is ``ROWS``, compiled once per dialect."""
        sql, positional = _rows_for_driver(self.connection.dialect)
        params = (trail_key,) if positional else {"t": trail_key}
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        finally:
            cursor.close()
        found.sort(key=itemgetter(0))
        return found

    def watched_entries(self, event_types: Iterable[str], project_id: str | None) -> dict[str, list[dict]]:
        query = select(trail.c.trail, *ENTRY_COLUMNS).where(trail.c.event_type.in_(list(event_types)))
        # one project's, or every project's (not the suite's trail, which names none)
        query = query.where(trail.c.trail == project_id if project_id is not None else trail.c.trail != "")
        found: dict[str, list[dict]] = {}
        for row in self.connection.execute(query.order_by(trail.c.trail, trail.c.seq)):
            found.setdefault(row[0], []).append(_entry(row[1:]))
        return found

    # --- projects ----------------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        row = self.connection.execute(select(projects).where(projects.c.project_id == project_id)).first()
        return None if row is None else Project(row.project_id, row.unit, row.construction_mode, row.classified)

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]:
        wanted = list(project_ids)
        if not wanted:
            return {}
        rows = self.connection.execute(select(projects).where(projects.c.project_id.in_(wanted)))
        return {r.project_id: Project(r.project_id, r.unit, r.construction_mode, r.classified) for r in rows}

    def save_project(self, project: Project) -> None:
        self.connection.execute(NEW_PROJECT, {"project_id": project.project_id})
        self.connection.execute(
            update(projects)
            .where(projects.c.project_id == project.project_id)
            .values(unit=project.unit, construction_mode=project.construction_mode, classified=project.classified)
        )

    # --- checkpoints -------------------------------------------------------------------------------

    def live_heads(self) -> dict[str, Head]:
        rows = self.connection.execute(select(trail_heads.c.trail, trail_heads.c.length, trail_heads.c.head))
        return {t: Head(n, h) for t, n, h in rows}

    def checkpointed_heads(self) -> dict[str, Head]:
        latest = (
            select(checkpoint_heads.c.trail, func.max(checkpoint_heads.c.checkpoint_seq).label("at"))
            .group_by(checkpoint_heads.c.trail)
            .subquery()
        )
        query = select(checkpoint_heads.c.trail, checkpoint_heads.c.length, checkpoint_heads.c.head).join(
            latest,
            (latest.c.trail == checkpoint_heads.c.trail) & (latest.c.at == checkpoint_heads.c.checkpoint_seq),
        )
        return {t: Head(n, h) for t, n, h in self.connection.execute(query)}

    def checkpoint_history(self, trail_key: str) -> list[Head]:
        query = (
            select(checkpoint_heads.c.length, checkpoint_heads.c.head)
            .where(checkpoint_heads.c.trail == trail_key)
            .order_by(checkpoint_heads.c.checkpoint_seq)
        )
        return [Head(n, h) for n, h in self.connection.execute(query)]

    def add_checkpoint(
        self, taken_at: dt.datetime, root: str, heads: Mapping[str, Head], projects: int, entries: int
    ) -> Checkpoint:
        seq = self.connection.execute(
            insert(checkpoints)
            .values(taken_at=taken_at, root=root, projects=projects, entries=entries)
            .returning(checkpoints.c.seq)
        ).scalar_one()
        self.connection.execute(
            insert(checkpoint_heads),
            [{"checkpoint_seq": seq, "trail": t, "length": h.length, "head": h.hash} for t, h in heads.items()],
        )
        return Checkpoint(seq, taken_at.isoformat(), root, projects, entries)

    def latest_checkpoint(self) -> Checkpoint | None:
        row = self.connection.execute(select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1)).first()
        if row is None:
            return None
        return Checkpoint(row.seq, _utc(row.taken_at).isoformat(), row.root, row.projects, row.entries)

    # --- cases -------------------------------------------------------------------------------------

    def case_of_project(self, project_id: str) -> Case | None:
        return self._case(select(cases).where(cases.c.project_id == project_id))

    def add_case(self, case: Case) -> None:
        self.connection.execute(insert(cases).values(**_case_row(case)))

    def locked_case(self, case_id: str) -> Case | None:
        return self._case(select(cases).where(cases.c.case_id == case_id).with_for_update())

    def add_finding(self, finding: Finding) -> None:
        self.connection.execute(insert(findings).values(**vars(finding)))

    def save_case(self, case: Case) -> None:
        values = _case_row(case)
        self.connection.execute(update(cases).where(cases.c.case_id == values.pop("case_id")).values(**values))

    def cases(self, status: str | None) -> list[Case]:
        query = select(cases).order_by(cases.c.opened_at, cases.c.case_id)
        if status is not None:
            query = query.where(cases.c.status == status)
        found = [_case(row) for row in self.connection.execute(query)]
        by_id = {case.case_id: case for case in found}
        if by_id:
            rows = self.connection.execute(
                select(findings)
                .where(findings.c.case_id.in_(list(by_id)))
                .order_by(findings.c.recorded_at, findings.c.finding_id)
            )
            for row in rows:
                by_id[row.case_id].findings.append(_finding(row))
        return found

    def case_counts(self) -> dict[str, int]:
        query = select(cases.c.status, func.count()).group_by(cases.c.status)
        return {status: int(count) for status, count in self.connection.execute(query)}

    def _case(self, query: Any) -> Case | None:
        row = self.connection.execute(query).first()
        if row is None:
            return None
        case = _case(row)
        rows = self.connection.execute(
            select(findings)
            .where(findings.c.case_id == case.case_id)
            .order_by(findings.c.recorded_at, findings.c.finding_id)
        )
        case.findings = [_finding(r) for r in rows]
        return case


def _entry(row: Any) -> dict[str, Any]:
    entry = dict(zip(FIELD_NAMES, row, strict=True))
    entry["data"] = json.loads(entry["data"])
    return entry


def _case_row(case: Case) -> dict[str, Any]:
    values = dict(vars(case))
    values.pop("findings")
    return values


def _case(row: Any) -> Case:
    return Case(
        row.case_id,
        row.project_id,
        row.status,
        _utc(row.opened_at),
        row.acceptance_event_id,
        row.accepted_on,
        row.conclusion,
        row.closed_by,
        _utc(row.closed_at) if row.closed_at else None,
    )


def _finding(row: Any) -> Finding:
    return Finding(row.finding_id, row.case_id, row.severity, row.description, row.recorded_by, _utc(row.recorded_at))


def _utc(value: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@functools.lru_cache(maxsize=8)
def _rows_for_driver(dialect: Any) -> tuple[str, bool]:
    """``ROWS`` in the driver's own parameter style, and whether that style is positional (sqlite3's
    ``?``, one parameter) rather than named (psycopg's ``%(t)s``): compiled once per engine's dialect."""
    compiled = ROWS.compile(dialect=dialect)
    return str(compiled), compiled.positiontup is not None
