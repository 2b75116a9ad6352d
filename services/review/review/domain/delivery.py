"""What review keeps of a project being built, for its acceptance (Art 18–21, 24): the entities, the
stages a project's delivery goes through as data, and what review learns from other bureaus'
events, in whatever order they arrive (approval granted, contract registered, an unauthorized
change reported or resolved, the MLPS grade and its filing)."""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from nxshared.core.errors import Conflict, RuleViolation, ValidationError
from nxshared.core.events import Event


class ReportKind(StrEnum):
    """The test reports of Art 20."""

    PRODUCT = "product"  # hardware and off-the-shelf software: a test report or manual
    THIRD_PARTY_SOFTWARE = "third_party_software"  # custom software, by a qualified third party
    SOURCE_CODE = "source_code"  # a major project's source code,
    DATABASE = "database"  # database system,
    NETWORK_SECURITY = "network_security"  # and network and information security


class DeliveryStage(StrEnum):
    BUILDING = "building"
    PRECHECK_REQUESTED = "precheck_requested"
    PRECHECK_FAILED = "precheck_failed"
    PRECHECKED = "prechecked"
    ACCEPTANCE_FAILED = "acceptance_failed"
    ACCEPTED = "accepted"


class DeliveryAction(StrEnum):
    REGISTER_SUPERVISOR = "register_supervisor"
    SUBMIT_TEST_REPORT = "submit_test_report"
    REQUEST_PRECHECK = "request_precheck"
    PRECHECK_PASSED = "precheck_passed"
    PRECHECK_FAILED = "precheck_failed"
    ACCEPTANCE_PASSED = "acceptance_passed"
    ACCEPTANCE_FAILED = "acceptance_failed"


S, A = DeliveryStage, DeliveryAction
NOT_ACCEPTED = (S.BUILDING, S.PRECHECK_REQUESTED, S.PRECHECK_FAILED, S.PRECHECKED, S.ACCEPTANCE_FAILED)
DELIVERY_TRANSITIONS: dict[tuple[DeliveryStage, DeliveryAction], DeliveryStage] = {
    # Art 19, 20: supervision and test reports are recorded until the project is accepted
    **{(stage, A.REGISTER_SUPERVISOR): stage for stage in NOT_ACCEPTED},
    **{(stage, A.SUBMIT_TEST_REPORT): stage for stage in NOT_ACCEPTED},
    # Art 21: the unit reports the finished project to the data center, again after a failure
    (S.BUILDING, A.REQUEST_PRECHECK): S.PRECHECK_REQUESTED,
    (S.PRECHECK_FAILED, A.REQUEST_PRECHECK): S.PRECHECK_REQUESTED,
    (S.ACCEPTANCE_FAILED, A.REQUEST_PRECHECK): S.PRECHECK_REQUESTED,
    (S.PRECHECK_REQUESTED, A.PRECHECK_PASSED): S.PRECHECKED,
    (S.PRECHECK_REQUESTED, A.PRECHECK_FAILED): S.PRECHECK_FAILED,
    # Art 21: acceptance after a passed pre-check; a failed acceptance may be recorded again
    (S.PRECHECKED, A.ACCEPTANCE_PASSED): S.ACCEPTED,
    (S.PRECHECKED, A.ACCEPTANCE_FAILED): S.ACCEPTANCE_FAILED,
    (S.ACCEPTANCE_FAILED, A.ACCEPTANCE_PASSED): S.ACCEPTED,
    (S.ACCEPTANCE_FAILED, A.ACCEPTANCE_FAILED): S.ACCEPTANCE_FAILED,
}

STAGE_NAMES = {
    S.BUILDING: "建设中",
    S.PRECHECK_REQUESTED: "已报备待审查",
    S.PRECHECK_FAILED: "验收前审查未通过",
    S.PRECHECKED: "验收前审查已通过",
    S.ACCEPTANCE_FAILED: "验收不合格",
    S.ACCEPTED: "已验收",
}
ACTION_NAMES = {
    A.REGISTER_SUPERVISOR: "登记监理",
    A.SUBMIT_TEST_REPORT: "提交检测报告",
    A.REQUEST_PRECHECK: "申请验收前审查",
    A.PRECHECK_PASSED: "作出审查结论",
    A.PRECHECK_FAILED: "作出审查结论",
    A.ACCEPTANCE_PASSED: "登记验收结果",
    A.ACCEPTANCE_FAILED: "登记验收结果",
}
MLPS_GRADED = "graded"
MLPS_FILED = "filed"


@dataclass
class Supervisor:
    """Art 19: the project's supervision company (its IS-engineering supervision qualification) and
    its lead supervisor (certificate); the latest registered is the project's."""

    project_id: str
    company: str
    qualification_no: str
    lead_name: str
    lead_certificate_no: str
    registered_by: str
    registered_at: dt.datetime


@dataclass
class TestReport:
    __test__ = False  # an entity, not a pytest class

    report_id: str
    project_id: str
    kind: str
    agency: str
    report_no: str
    passed: bool
    submitted_by: str
    submitted_at: dt.datetime


@dataclass
class Precheck:
    """Art 21: the data center's check that what was built matches the reviewed plan."""

    precheck_id: str
    project_id: str
    requested_by: str
    requested_at: dt.datetime
    verdict: str | None = None
    opinion: str | None = None
    concluded_by: str | None = None
    concluded_at: dt.datetime | None = None


@dataclass
class Acceptance:
    """Art 21: the formal acceptance as the unit records it; recorded again after a failure."""

    acceptance_id: str
    project_id: str
    precheck_id: str
    date: dt.date
    passed: bool
    minutes: str
    recorded_by: str
    recorded_at: dt.datetime


@dataclass
class Delivery:
    """A project from its approval to its acceptance, as review knows it: the facts other bureaus'
    events told it, and what was recorded here, kept on one row so that a decision reads it at
    once. A row exists from the first such fact. The reports, pre-checks and acceptances themselves
    are kept beside it, each once; the row keeps what the conditions need of them."""

    project_id: str
    stage: str = DeliveryStage.BUILDING.value
    approved: bool = False  # approval's approval.granted (Art 13)
    approval_no: str | None = None
    contract_no: str | None = None  # finance's contract.registered (Art 15–17)
    mlps_status: str | None = None  # security's mlps.graded / mlps.filed (Art 24)
    mlps_as_of: dt.datetime | None = None  # when the MLPS event review applied last occurred
    report_results: dict[str, bool] = field(default_factory=dict)  # Art 20: kind → its latest report passed
    unauthorized_changes: dict[str, bool] = field(default_factory=dict)  # Art 18: report id → resolved
    precheck_id: str | None = None  # the latest pre-check (Art 21)
    supervisor: Supervisor | None = None

    def open_unauthorized_changes(self) -> list[str]:
        return sorted(report_id for report_id, resolved in self.unauthorized_changes.items() if not resolved)


def delivery_transition(delivery: Delivery, action: DeliveryAction) -> DeliveryStage:
    """The stage ``action`` takes the delivery to, or the refusal: acceptance before a passed
    pre-check breaks Art 21; anything else out of turn is a conflict."""
    current = DeliveryStage(delivery.stage)
    target = DELIVERY_TRANSITIONS.get((current, action))
    if target is not None:
        return target
    if current is S.ACCEPTED:
        raise Conflict("ALREADY_ACCEPTED", f"项目已验收，不能再{ACTION_NAMES[action]}（第二十一条）")
    if action in (A.ACCEPTANCE_PASSED, A.ACCEPTANCE_FAILED):
        raise RuleViolation(
            "PRECHECK_NOT_PASSED",
            f"项目{STAGE_NAMES[current]}，须经县信息和数据中心验收前审查通过后方可组织验收（第二十一条）",
            "Art 21",
        )
    if action in (A.PRECHECK_PASSED, A.PRECHECK_FAILED):
        raise Conflict("PRECHECK_NOT_REQUESTED", f"项目{STAGE_NAMES[current]}，没有待审查的验收前报备（第二十一条）")
    raise Conflict("PRECHECK_NOT_ALLOWED", f"项目{STAGE_NAMES[current]}，不能{ACTION_NAMES[action]}（第二十一条）")


# --- what review learns from other bureaus (Art 13, 15–18, 24) ------------------------------------


def project_of(evt: Event) -> str:
    """The project an event is about; these events are all about one."""
    if not evt.project_id:
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 缺少 project_id")
    return evt.project_id


def learn_approved(delivery: Delivery, evt: Event) -> None:
    """Art 13: the DRC's ``approval.granted``: the project is approved and may be built."""
    delivery.approved = True
    delivery.approval_no = evt.data.get("approval_no")


def learn_contracted(delivery: Delivery, evt: Event) -> None:
    """Art 15–17: finance's ``contract.registered``."""
    delivery.contract_no = evt.data["contract_no"]


def learn_mlps(delivery: Delivery, evt: Event) -> None:
    """Art 24: security's ``mlps.graded`` (a new grade is not filed yet, a re-grade takes a filed
    system back) and ``mlps.filed``. The latest to have occurred holds, whatever the order they
    arrive in (a retried event may come after a later one)."""
    occurred = _moment(evt)
    if delivery.mlps_as_of is not None and occurred < delivery.mlps_as_of:
        return
    delivery.mlps_status = MLPS_FILED if evt.event_type == "mlps.filed" else MLPS_GRADED
    delivery.mlps_as_of = occurred


def learn_unauthorized_reported(delivery: Delivery, evt: Event) -> None:
    """Art 18: a change carried out without approval, reported to planning; a resolution that
    overtook its report stays resolved."""
    report_id = evt.data["report_id"]
    if report_id not in delivery.unauthorized_changes:
        delivery.unauthorized_changes = {**delivery.unauthorized_changes, report_id: False}


def learn_unauthorized_resolved(delivery: Delivery, evt: Event) -> None:
    """Art 18: the smart office resolved these reports (a report not heard of yet is kept resolved)."""
    delivery.unauthorized_changes = {**delivery.unauthorized_changes, **dict.fromkeys(evt.data["report_ids"], True)}


def _moment(evt: Event) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(evt.occurred_at)
    except (TypeError, ValueError):
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 的时间不合法：{evt.occurred_at!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
