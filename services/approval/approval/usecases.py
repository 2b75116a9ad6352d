"""Approval's use cases, one function each: load through ``uow.repo``, let the domain decide, keep the
result, and ``uow.emit`` the events the decision caused. The entrypoints in ``approval.service`` only
decode, authorize, open the unit of work and dump; the tests drive these with a fake unit of work.

Every change to a project's approval first takes the project's lock (``locked_project``, or
``lock_project`` when the change does not read the project), so that a call and an event about the
same project never interleave (see ``approval.repository``).
"""

import datetime as dt
from typing import Protocol

from approval import domain
from approval.domain import Application, ApprovalCounter, ConcludedReview, Project
from nxshared.core.caller import Caller
from nxshared.core.events import Event
from nxshared.core.uow import UnitOfWork


class ReviewLedger(Protocol):
    """What ``on_review_concluded`` needs: statements only, its values copies (``save_review_basis``)."""

    def lock_project(self, project_id: str) -> None:
        """The same lock as ``locked_project``, without loading the project."""

    def latest_application(self, project_id: str) -> Application | None: ...

    def reviews(self, project_id: str) -> list[ConcludedReview]: ...

    def record_review(self, review: ConcludedReview) -> None: ...

    def save_review_basis(self, application: Application) -> None: ...


class Repository(Protocol):
    def locked_project(self, project_id: str) -> Project:
        """The project, created (not planned) if unknown, locked until the unit of work ends."""

    def lock_project(self, project_id: str) -> None:
        """The same lock as ``locked_project``, without loading the project."""

    def project(self, project_id: str) -> Project | None: ...

    def locked_counter(self, year: int) -> ApprovalCounter:
        """The year's approval-number counter, created if absent, locked until the unit of work ends."""

    def latest_application(self, project_id: str) -> Application | None: ...

    def reviews(self, project_id: str) -> list[ConcludedReview]: ...

    def record_review(self, review: ConcludedReview) -> None: ...

    def add(self, application: Application) -> None: ...


class Reading(Protocol):
    @property
    def repo(self) -> Repository: ...


# --- what the owner and the DRC ask (Art 10, 13) -------------------------------------------------


def apply(
    uow: UnitOfWork[Repository],
    project_id: str,
    approval_type: str,
    caller: Caller,
    rules: domain.ApprovalRules,
    now: dt.datetime,
) -> Application:
    project = uow.repo.locked_project(project_id)
    latest = uow.repo.latest_application(project_id)
    reviews = uow.repo.reviews(project_id)
    application, applied = domain.apply(project, latest, reviews, approval_type, caller, rules, now)
    uow.repo.add(application)
    uow.emit(applied)
    return application


def grant(
    uow: UnitOfWork[Repository],
    project_id: str,
    opinion: str,
    caller: Caller,
    rules: domain.ApprovalRules,
    year: int,
    now: dt.datetime,
) -> Application:
    """Art 13: ``year`` is the year whose approval numbers the grant draws from."""
    project = uow.repo.locked_project(project_id)
    application = uow.repo.latest_application(project_id)
    counter = uow.repo.locked_counter(year)
    granted, event = domain.grant(project, application, counter, rules, opinion, caller, now)
    uow.emit(event)
    return granted


def reject(
    uow: UnitOfWork[Repository],
    project_id: str,
    opinion: str,
    caller: Caller,
    rules: domain.ApprovalRules,
    now: dt.datetime,
) -> Application:
    project = uow.repo.locked_project(project_id)
    application = uow.repo.latest_application(project_id)
    rejected, event = domain.reject(project, application, rules, opinion, caller, now)
    uow.emit(event)
    return rejected


def get(uow: Reading, project_id: str, caller: Caller, rules: domain.ApprovalRules) -> Application:
    domain.check_visible(caller, uow.repo.project(project_id), rules)
    return domain.check_applied(uow.repo.latest_application(project_id))


# --- what approval learns from planning and review ------------------------------------------------


def on_project_planned(uow: UnitOfWork[Repository], evt: Event) -> None:
    """Art 10: the project is in the annual or supplementary plan."""
    if not uow.first_time(evt):
        return
    project = uow.repo.locked_project(domain.project_of(evt))
    domain.learn_planned(project, evt.data, evt.occurred_at, uow.repo.latest_application(project.project_id))


def on_change_approved(uow: UnitOfWork[Repository], evt: Event) -> None:
    """Art 18: an approved change may raise or lower the project's estimate (v2 data; null: unchanged)."""
    if not uow.first_time(evt):
        return
    project = uow.repo.locked_project(domain.project_of(evt))
    application = uow.repo.latest_application(project.project_id)
    domain.learn_estimate(project, application, evt.data.get("estimated_investment"), evt.occurred_at)


def on_review_concluded(uow: UnitOfWork[ReviewLedger], evt: Event) -> None:
    """Art 13: record the review; a passing one makes the project's open application ready."""
    if not uow.first_time(evt):
        return
    project_id = domain.project_of(evt)
    uow.repo.lock_project(project_id)
    uow.repo.record_review(domain.concluded_review(evt.event_type, project_id, evt.data, evt.occurred_at))
    application = uow.repo.latest_application(project_id)
    if application is not None and domain.take_reviews_into_account(application, uow.repo.reviews(project_id)):
        uow.repo.save_review_basis(application)
