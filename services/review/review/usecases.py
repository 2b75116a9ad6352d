"""Review's use cases: load through ``uow.repo``, let the domain decide, record what it caused.

Each function runs inside one open unit of work (``nxshared.core.uow``): the entrypoint opens it,
the fake in the tests stands in for it. An aggregate that is changed is loaded with its
``locked_…`` method. Input arrives already validated; ``caller`` is the authenticated caller.
Reads take only the repository, since they change nothing.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeAlias

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound
from nxshared.core.events import Event
from nxshared.core.reminders import send_reminders
from nxshared.core.uow import UnitOfWork
from review import domain
from review.domain import (
    Acceptance,
    Delivery,
    Expert,
    KnownProject,
    PlannedProject,
    Precheck,
    Readiness,
    Review,
    ReviewRules,
    ReviewSeen,
    SimilarityIndex,
    Supervisor,
    TestReport,
    reminders,
)


class ReviewRepository(Protocol):
    def planned_project(self, project_id: str) -> PlannedProject | None: ...
    def locked_planned_project(self, project_id: str) -> PlannedProject | None: ...
    def save_project(self, project: PlannedProject) -> None: ...
    def review(self, review_id: str) -> Review | None: ...
    def locked_review(self, review_id: str) -> Review | None: ...
    def reviews_of(self, project_id: str) -> list[Review]: ...
    def add_review(self, review: Review) -> None: ...
    def expert(self, expert_id: str) -> Expert | None: ...
    def add_expert(self, expert: Expert) -> None: ...
    def known_project(self, project_id: str) -> KnownProject | None: ...
    def locked_known_project(self, project_id: str) -> KnownProject | None: ...
    def save_known_project(self, project: KnownProject) -> None: ...
    def similarity_index(self) -> SimilarityIndex:
        """Every declared or planned project review has heard of, indexed (Art 12 duplicates)."""


class DeliveryRepository(Protocol):
    """Delivery and acceptance's (Art 18–21, 24): a changed delivery, supervisor or pre-check is
    written back with its ``save_…``."""

    def planned_project(self, project_id: str) -> PlannedProject | None: ...
    def delivery(self, project_id: str) -> Delivery | None: ...
    def locked_delivery(self, project_id: str) -> Delivery | None: ...
    def delivery_to_learn(self, project_id: str) -> Delivery:
        """The project's delivery, created (knowing nothing) if unknown, locked until the unit of work ends."""

    def save_delivery(self, delivery: Delivery) -> None: ...
    def save_supervisor(self, supervisor: Supervisor) -> None: ...
    def review_outcomes(self, project_id: str) -> list[tuple[str, str]]: ...
    def add_test_report(self, report: TestReport) -> None: ...
    def precheck(self, precheck_id: str | None) -> Precheck | None: ...
    def add_precheck(self, precheck: Precheck) -> None: ...
    def save_precheck(self, precheck: Precheck) -> None: ...
    def add_acceptance(self, acceptance: Acceptance) -> None: ...
    def known_project(self, project_id: str) -> KnownProject | None: ...
    def locked_known_project(self, project_id: str) -> KnownProject | None: ...
    def save_known_project(self, project: KnownProject) -> None: ...
    def similarity_index(self) -> SimilarityIndex:
        """Every declared or planned project review has heard of, indexed (Art 12 duplicates)."""


Uow: TypeAlias = UnitOfWork[ReviewRepository]
DeliveryUow: TypeAlias = UnitOfWork[DeliveryRepository]


# --- what planning tells us (Art 10, 18) --------------------------------------------------------


def record_planned(uow: Uow, evt: Event) -> None:
    """``project.planned``: the project may now be reviewed (Art 10); applied once per event."""
    if not uow.first_time(evt):
        return
    _learn_known(uow, evt)
    data = evt.data
    uow.repo.save_project(
        PlannedProject(
            project_id=str(evt.project_id),
            name=data["name"],
            unit=data["unit"],
            construction_mode=data["construction_mode"],
            estimated_investment=Decimal(data["estimated_investment"]),
            requires_construction_plan=data["requires_construction_plan"],
            classified=data["classified"],
            custom_software=data["custom_software"],
            hosted_on_big_data_center=data["hosted_on_big_data_center"],
        )
    )


def record_known_project(uow: Uow, evt: Event) -> None:
    """``project.declared`` / ``project.not_planned`` (``project.planned`` in ``record_planned``):
    what the county has declared or planned, for the duplicate check (Art 12); applied once per event."""
    if uow.first_time(evt):
        _learn_known(uow, evt)


def _learn_known(uow: Uow, evt: Event) -> None:
    project_id, data = str(evt.project_id), evt.data
    status = KNOWN_STATUS[evt.event_type]
    known = uow.repo.locked_known_project(project_id)
    if known is None and status == domain.CorpusStatus.NOT_PLANNED:
        known = KnownProject(project_id, "", "", "", False, status)
    elif evt.event_type != "project.not_planned":
        known = domain.merge_known(
            known, project_id, data["name"], data.get("summary"), data["unit"], data["classified"], status
        )
    else:
        assert known is not None
        known.status = status
    uow.repo.save_known_project(known)


KNOWN_STATUS = {
    "project.declared": domain.CorpusStatus.DECLARED,
    "project.planned": domain.CorpusStatus.PLANNED,
    "project.not_planned": domain.CorpusStatus.NOT_PLANNED,
}


def record_estimate_change(uow: Uow, evt: Event) -> None:
    """``change.approved``: an approved change that alters the estimate (data v2
    ``estimated_investment``; null when it leaves the estimate as it was) sets the estimate a
    construction plan is held to (Art 12, 18). A change to a project review has not heard of as
    planned concerns nothing here."""
    if not uow.first_time(evt) or evt.data["estimated_investment"] is None:
        return
    project = uow.repo.locked_planned_project(str(evt.project_id))
    if project is not None:
        domain.apply_estimate_change(project, evt.data["change_id"], Decimal(evt.data["estimated_investment"]))


# --- what approval, finance, planning and security tell us (Art 13, 15–18, 24) ------------------


def on_delivery_fact(uow: DeliveryUow, evt: Event) -> None:
    """A fact acceptance depends on, from the bureau that owns it: the approval granted (Art 13),
    the contract registered (Art 15–17), an unauthorized change reported or resolved (Art 18), the
    MLPS grade or its filing (Art 24). Applied once per event, to the project's locked delivery."""
    if uow.first_time(evt):
        delivery = uow.repo.delivery_to_learn(domain.project_of(evt))
        LEARN[evt.event_type](delivery, evt)
        _keep(uow, delivery)


LEARN: dict[str, Callable[[Delivery, Event], None]] = {
    "approval.granted": domain.learn_approved,
    "contract.registered": domain.learn_contracted,
    "change.unauthorized_reported": domain.learn_unauthorized_reported,
    "change.unauthorized_resolved": domain.learn_unauthorized_resolved,
    "mlps.graded": domain.learn_mlps,
    "mlps.filed": domain.learn_mlps,
}


# --- submission and filing (Art 10–12) ----------------------------------------------------------


def submit_construction_plan(
    uow: Uow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str, plan: dict[str, Any]
) -> ReviewSeen:
    project = uow.repo.locked_planned_project(project_id)
    history = uow.repo.reviews_of(project_id)
    duplicates = _duplicates(uow, project, plan["title"], rules) if project is not None else []
    review, events = domain.submit_plan(project, history, plan, caller, rules, now, duplicates)
    uow.repo.add_review(review)
    uow.emit(*events)
    return domain.as_seen_by(review, caller, rules)


def _duplicates(uow: Uow, project: PlannedProject, title: str, rules: ReviewRules) -> list[domain.DuplicateMatch]:
    """Art 12: the projects like this one, by its declaration (name, summary) and the plan's title."""
    known = uow.repo.known_project(project.project_id)
    summary = known.summary if known is not None else ""
    return domain.find_duplicates(uow.repo.similarity_index(), project.project_id, project.name, summary, title, rules)


def acknowledge_duplicates(
    uow: Uow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str, comment: str
) -> ReviewSeen:
    """Art 12: the data center acknowledges the strong duplicate matches of the project's open review."""
    domain.check_visible(caller, uow.repo.planned_project(project_id), rules)
    review = _open_review_of(uow, project_id)
    uow.emit(*domain.acknowledge(review, rules, comment, caller, now))
    return domain.as_seen_by(review, caller, rules)


def _open_review_of(uow: Uow, project_id: str) -> Review:
    for review in reversed(uow.repo.reviews_of(project_id)):
        if review.status == domain.ReviewStatus.UNDER_REVIEW.value:
            locked = uow.repo.locked_review(review.review_id)
            assert locked is not None
            return locked
    raise Conflict("NO_OPEN_REVIEW", "该项目没有正在进行的技术评审（第十二条）")


def request_filing(uow: Uow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str) -> ReviewSeen:
    project = uow.repo.locked_planned_project(project_id)
    review, events = domain.file_project(project, uow.repo.reviews_of(project_id), caller, rules, now)
    uow.repo.add_review(review)
    uow.emit(*events)
    return domain.as_seen_by(review, caller, rules)


# --- the expert pool and the review (Art 12) ----------------------------------------------------


def register_expert(uow: Uow, name: str, level: str, field: str, employer: str) -> Expert:
    expert = domain.new_expert(name, level, field, employer)
    uow.repo.add_expert(expert)
    return expert


def assign_experts(uow: Uow, caller: Caller, rules: ReviewRules, review_id: str, expert_ids: list[str]) -> ReviewSeen:
    review, project = _open_review(uow, caller, rules, review_id)
    chosen = [_expert(uow, expert_id) for expert_id in expert_ids]
    uow.emit(*domain.assign_panel(review, chosen, project, rules, caller))
    return domain.as_seen_by(review, caller, rules)


def record_expert_opinion(
    uow: Uow, caller: Caller, rules: ReviewRules, review_id: str, expert_id: str, verdict: str, opinion: str
) -> ReviewSeen:
    review, _ = _open_review(uow, caller, rules, review_id)
    uow.emit(*domain.record_opinion(review, expert_id, verdict, opinion, caller))
    return domain.as_seen_by(review, caller, rules)


def conclude_review(
    uow: Uow, caller: Caller, rules: ReviewRules, now: dt.datetime, review_id: str, verdict: str, opinion: str
) -> ReviewSeen:
    review, _ = _open_review(uow, caller, rules, review_id)
    uow.emit(*domain.conclude(review, verdict, opinion, caller, now, rules))
    return domain.as_seen_by(review, caller, rules)


# --- delivery and acceptance (Art 18–21, 24) -------------------------------------------------------


def register_supervisor(
    uow: DeliveryUow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str, supervisor: dict[str, Any]
) -> Supervisor:
    project = uow.repo.planned_project(project_id)
    registered, events = domain.register_supervisor(
        project, uow.repo.locked_delivery(project_id), supervisor, caller, rules, now
    )
    uow.repo.save_supervisor(registered)
    uow.emit(*events)
    return registered


def submit_test_report(
    uow: DeliveryUow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str, report: dict[str, Any]
) -> TestReport:
    project = uow.repo.planned_project(project_id)
    delivery = uow.repo.locked_delivery(project_id)
    submitted, events = domain.submit_test_report(project, delivery, report, caller, rules, now)
    uow.repo.add_test_report(submitted)
    _keep(uow, delivery)
    uow.emit(*events)
    return submitted


def request_acceptance_precheck(
    uow: DeliveryUow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str
) -> Precheck:
    project = uow.repo.planned_project(project_id)
    delivery = uow.repo.locked_delivery(project_id)
    outcomes = uow.repo.review_outcomes(project_id)
    precheck, events = domain.request_precheck(project, delivery, outcomes, caller, rules, now)
    uow.repo.add_precheck(precheck)
    _keep(uow, delivery)
    uow.emit(*events)
    return precheck


def conclude_acceptance_precheck(
    uow: DeliveryUow, caller: Caller, rules: ReviewRules, now: dt.datetime, project_id: str, verdict: str, opinion: str
) -> Precheck:
    project = uow.repo.planned_project(project_id)
    delivery = uow.repo.locked_delivery(project_id)
    latest = uow.repo.precheck(delivery.precheck_id if delivery else None)
    outcomes = uow.repo.review_outcomes(project_id)
    precheck, events = domain.conclude_precheck(
        project, delivery, latest, outcomes, verdict, opinion, caller, rules, now
    )
    uow.repo.save_precheck(precheck)
    _keep(uow, delivery)
    uow.emit(*events)
    return precheck


def record_acceptance(
    uow: DeliveryUow,
    caller: Caller,
    rules: ReviewRules,
    today: dt.date,
    now: dt.datetime,
    project_id: str,
    acceptance: dict[str, Any],
) -> Acceptance:
    project = uow.repo.planned_project(project_id)
    delivery = uow.repo.locked_delivery(project_id)
    latest = uow.repo.precheck(delivery.precheck_id if delivery else None)
    outcomes = uow.repo.review_outcomes(project_id)
    recorded, events = domain.record_acceptance(
        project, delivery, latest, outcomes, acceptance, caller, rules, today, now
    )
    uow.repo.add_acceptance(recorded)
    _keep(uow, delivery)
    uow.emit(*events)
    return recorded


# --- reading ------------------------------------------------------------------------------------


def get_review(repo: ReviewRepository, caller: Caller, rules: ReviewRules, review_id: str) -> ReviewSeen:
    review = repo.review(review_id)
    if review is None:
        raise domain.review_not_found()
    domain.check_review_visible(caller, repo.planned_project(review.project_id), rules)
    return domain.as_seen_by(review, caller, rules)


def list_reviews(repo: ReviewRepository, caller: Caller, rules: ReviewRules, project_id: str) -> list[ReviewSeen]:
    """Every review of the project, oldest first: the history survives a failed review."""
    domain.check_visible(caller, repo.planned_project(project_id), rules)
    return [domain.as_seen_by(review, caller, rules) for review in repo.reviews_of(project_id)]


def get_acceptance_readiness(
    repo: DeliveryRepository, caller: Caller, rules: ReviewRules, project_id: str
) -> Readiness:
    """What the project still lacks for its acceptance (Art 18–21, 24), as the pre-check would say it."""
    project = repo.planned_project(project_id)
    return domain.readiness(project, repo.delivery(project_id), repo.review_outcomes(project_id), caller, rules)


def _keep(uow: DeliveryUow, delivery: Delivery | None) -> None:
    """Write back the delivery a decision changed (a project with none is refused before this)."""
    if delivery is not None:
        uow.repo.save_delivery(delivery)


def _open_review(uow: Uow, caller: Caller, rules: ReviewRules, review_id: str) -> tuple[Review, PlannedProject]:
    """The review, locked, and its project; ``REVIEW_NOT_FOUND`` when either is out of sight (Art 4, 25)."""
    review = uow.repo.locked_review(review_id)
    if review is None:
        raise domain.review_not_found()
    return review, domain.check_review_visible(caller, uow.repo.planned_project(review.project_id), rules)


def _expert(uow: Uow, expert_id: str) -> Expert:
    found = uow.repo.expert(expert_id)
    if found is None:
        raise NotFound("EXPERT_NOT_FOUND", f"专家库中没有专家 {expert_id}")
    return found


# --- reminders (reminder.due) ----------------------------------------------------------------------


class OpenReviews(Protocol):
    def open_reviews_submitted_before(self, day: dt.date) -> list[Review]: ...


def send_review_reminders(uow: UnitOfWork[OpenReviews], today: dt.date, rules: reminders.ReminderRules) -> list[Event]:
    """Art 12: a reminder for each review under way past its expected time, sent once; those sent now."""
    late = uow.repo.open_reviews_submitted_before(rules.submitted_before(today))
    return send_reminders(uow, reminders.review_reminders(late, today, rules))
