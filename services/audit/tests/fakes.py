"""An in-memory repository for the use-case tests, with the semantics of ``SqlRepository``."""

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from audit.domain import Case, Checkpoint, Finding, Head, Project, data_text
from audit.domain.chain import FIELDS


class FakeRepository:
    def __init__(self) -> None:
        self.trails: dict[str, list[dict[str, Any]]] = {}
        self.heads: dict[str, Head] = {}
        self.known: dict[str, Project] = {}
        self.checkpoints: list[tuple[Checkpoint, dict[str, Head]]] = []
        self.all_cases: dict[str, Case] = {}

    def locked_head(self, trail: str) -> Head:
        return self.heads.setdefault(trail, Head())

    def append(self, trail: str, entry: Mapping[str, Any]) -> None:
        entries = self.trails.setdefault(trail, [])
        assert entry["seq"] == len(entries) + 1, "a fork"
        entries.append(copy.deepcopy(dict(entry)))
        self.heads[trail] = Head(entry["seq"], entry["hash"])

    def head(self, trail: str) -> Head | None:
        return self.heads.get(trail)

    def entries(self, trail: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
        return copy.deepcopy([e for e in self.trails.get(trail, []) if e["seq"] > after_seq][:limit])

    def rows(self, trail: str) -> list[tuple]:
        return [
            tuple(data_text(e["data"]) if k == "data" else e[k] for k in FIELDS) for e in self.trails.get(trail, [])
        ]

    def watched_entries(self, event_types: Iterable[str], project_id: str | None) -> dict[str, list[dict]]:
        wanted = set(event_types)
        found: dict[str, list[dict]] = {}
        for trail, entries in self.trails.items():
            if trail and project_id in (None, trail):
                mine = [copy.deepcopy(e) for e in entries if e["event_type"] in wanted]
                if mine:
                    found[trail] = mine
        return found

    def project(self, project_id: str) -> Project | None:
        return copy.deepcopy(self.known.get(project_id))

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]:
        return {pid: copy.deepcopy(self.known[pid]) for pid in project_ids if pid in self.known}

    def save_project(self, project: Project) -> None:
        self.known[project.project_id] = copy.deepcopy(project)

    def live_heads(self) -> dict[str, Head]:
        return dict(self.heads)

    def checkpointed_heads(self) -> dict[str, Head]:
        latest: dict[str, Head] = {}
        for _, heads in self.checkpoints:
            latest.update(heads)
        return latest

    def checkpoint_history(self, trail: str) -> list[Head]:
        return [heads[trail] for _, heads in self.checkpoints if trail in heads]

    def add_checkpoint(
        self, taken_at: dt.datetime, root: str, heads: Mapping[str, Head], projects: int, entries: int
    ) -> Checkpoint:
        checkpoint = Checkpoint(len(self.checkpoints) + 1, taken_at.isoformat(), root, projects, entries)
        self.checkpoints.append((checkpoint, dict(heads)))
        return checkpoint

    def latest_checkpoint(self) -> Checkpoint | None:
        return self.checkpoints[-1][0] if self.checkpoints else None

    def case_of_project(self, project_id: str) -> Case | None:
        return next((copy.deepcopy(c) for c in self.all_cases.values() if c.project_id == project_id), None)

    def add_case(self, case: Case) -> None:
        assert self.case_of_project(case.project_id) is None, "one case per project"
        self.all_cases[case.case_id] = copy.deepcopy(case)

    def locked_case(self, case_id: str) -> Case | None:
        case = self.all_cases.get(case_id)
        return None if case is None else copy.deepcopy(case)

    def add_finding(self, finding: Finding) -> None:
        self.all_cases[finding.case_id].findings.append(copy.deepcopy(finding))

    def save_case(self, case: Case) -> None:
        findings = self.all_cases[case.case_id].findings
        self.all_cases[case.case_id] = copy.deepcopy(case)
        self.all_cases[case.case_id].findings = findings

    def cases(self, status: str | None) -> list[Case]:
        found = [c for c in self.all_cases.values() if status in (None, c.status)]
        return copy.deepcopy(sorted(found, key=lambda c: (c.opened_at, c.case_id)))
