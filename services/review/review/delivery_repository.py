"""Delivery and acceptance's storage (Art 18–21, 24) on SQLAlchemy Core: what their use cases load and
keep (``usecases.DeliveryRepository``).

**Statements only.** The repository runs on whatever executes statements: the plain connection of
a unit of work without an ORM session (``transaction(DeliveryRepository, orm=False)``, every write
and every fact another bureau's event brings), or a read session. Rows become the domain's
dataclasses and what a decision changed is written back (``save_delivery``, ``save_supervisor``,
``save_precheck``); the statements are built once. A session's bookkeeping (its flush, identity map
and instrumented objects) cost these writes more than their statements: the five write RPCs went
from 2.3–3.2× the bare echo to under 2× with this and the events sent after the reply.

**The lock.** A decision first takes the delivery's row (``locked_delivery``: ``SELECT … FOR UPDATE``
on PostgreSQL; on SQLite the unit of work is a write transaction from its first statement); its
supervisor, pre-checks and acceptances change only under it.
"""

import dataclasses
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from nxshared.tables import insert_if_absent
from review.domain import Acceptance, Delivery, PlannedProject, Precheck, Supervisor, TestReport
from review.models import acceptances, deliveries, planned_projects, prechecks, reviews, supervisors, test_reports

PROJECT = select(planned_projects).where(planned_projects.c.project_id == bindparam("project_id"))
DELIVERY = select(deliveries).where(deliveries.c.project_id == bindparam("project_id"))
LOCKED_DELIVERY = DELIVERY.with_for_update()
NEW_DELIVERY = insert_if_absent(deliveries, "project_id")  # knowing nothing yet: the columns' defaults
SUPERVISOR = select(supervisors).where(supervisors.c.project_id == bindparam("project_id"))
OUTCOMES = select(reviews.c.route, reviews.c.status).where(reviews.c.project_id == bindparam("project_id"))
PRECHECK = select(prechecks).where(prechecks.c.precheck_id == bindparam("precheck_id"))
# the changed columns by name, the row by ``_id`` (an UPDATE sets the columns its parameters name)
SAVE_DELIVERY = update(deliveries).where(deliveries.c.project_id == bindparam("_id"))
SAVE_SUPERVISOR = update(supervisors).where(supervisors.c.project_id == bindparam("_id"))
SAVE_PRECHECK = update(prechecks).where(prechecks.c.precheck_id == bindparam("_id"))
ADD_SUPERVISOR = insert(supervisors)
ADD_TEST_REPORT = insert(test_reports)
ADD_PRECHECK = insert(prechecks)
ADD_ACCEPTANCE = insert(acceptances)
DELIVERY_COLUMNS = tuple(column.name for column in deliveries.c if column.name != "project_id")


class DeliveryRepository:
    def __init__(self, db: Any) -> None:
        """``db``: a unit of work's connection, or a read session (both execute statements)."""
        self.db = db

    def planned_project(self, project_id: str) -> PlannedProject | None:
        row = self.db.execute(PROJECT, {"project_id": project_id}).first()
        return None if row is None else PlannedProject(**row._mapping)

    def delivery(self, project_id: str) -> Delivery | None:
        return self._delivery(DELIVERY, project_id)

    def locked_delivery(self, project_id: str) -> Delivery | None:
        return self._delivery(LOCKED_DELIVERY, project_id)

    def delivery_to_learn(self, project_id: str) -> Delivery:
        """The project's delivery, created (knowing nothing yet) if absent, locked: an event about a
        project review has not heard of yet starts its record."""
        self.db.execute(NEW_DELIVERY, {"project_id": project_id})
        delivery = self.locked_delivery(project_id)
        assert delivery is not None
        return delivery

    def save_delivery(self, delivery: Delivery) -> None:
        values = {name: getattr(delivery, name) for name in DELIVERY_COLUMNS}
        self.db.execute(SAVE_DELIVERY, {"_id": delivery.project_id, **values})

    def save_supervisor(self, supervisor: Supervisor) -> None:
        """The project's one supervisor, registered or replaced (under the delivery's lock)."""
        values = dataclasses.asdict(supervisor)
        if self.db.execute(SAVE_SUPERVISOR, {"_id": supervisor.project_id, **values}).rowcount == 0:
            self.db.execute(ADD_SUPERVISOR, values)

    def review_outcomes(self, project_id: str) -> list[tuple[str, str]]:
        """The ``(route, status)`` of each of the project's reviews: what makes it major (Art 20)."""
        return [(route, status) for route, status in self.db.execute(OUTCOMES, {"project_id": project_id})]

    def add_test_report(self, report: TestReport) -> None:
        self.db.execute(ADD_TEST_REPORT, dataclasses.asdict(report))

    def precheck(self, precheck_id: str | None) -> Precheck | None:
        if precheck_id is None:
            return None
        row = self.db.execute(PRECHECK, {"precheck_id": precheck_id}).first()
        return None if row is None else Precheck(**row._mapping)

    def add_precheck(self, precheck: Precheck) -> None:
        self.db.execute(ADD_PRECHECK, dataclasses.asdict(precheck))

    def save_precheck(self, precheck: Precheck) -> None:
        self.db.execute(SAVE_PRECHECK, {"_id": precheck.precheck_id, **dataclasses.asdict(precheck)})

    def add_acceptance(self, acceptance: Acceptance) -> None:
        self.db.execute(ADD_ACCEPTANCE, dataclasses.asdict(acceptance))

    def _delivery(self, query, project_id: str) -> Delivery | None:
        row = self.db.execute(query, {"project_id": project_id}).first()
        if row is None:
            return None
        found = self.db.execute(SUPERVISOR, {"project_id": project_id}).first()
        return Delivery(**row._mapping, supervisor=None if found is None else Supervisor(**found._mapping))
