"""Review's entities, the settings behind Art 12 and the states a review goes through.

Entities are dataclasses; the service maps them to tables (``review.models``)."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nxshared.core.caller import org_list_setting
from nxshared.core.money import parse_money


class ReviewRoute(StrEnum):
    EXPERT_PANEL = "expert_panel"
    CENTER_OPINION = "center_opinion"
    FILING = "filing"


class ReviewStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    PASSED = "passed"
    FAILED = "failed"
    FILED = "filed"


class ExpertLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"


LEVEL_NAMES = {"national": "国家", "provincial": "省", "city": "市", "county": "县"}
EXPERT_VERDICTS = ("pass", "conditional", "fail")
CONCLUSIONS = (ReviewStatus.PASSED.value, ReviewStatus.FAILED.value)
REVIEWED_ROUTES = (ReviewRoute.EXPERT_PANEL.value, ReviewRoute.CENTER_OPINION.value)
ART_12_MIN_PANEL = 3  # "不少于3人": a setting may raise the panel's size, never lower it


@dataclass(frozen=True)
class ReviewRules:
    """The settings behind Art 12: the two thresholds and the make-up of an expert panel."""

    expert_panel_threshold: Decimal
    filing_threshold: Decimal
    panel_min_experts: int
    panel_expert_levels: tuple[str, ...]
    classified_visible_to: tuple[str, ...] = ()
    duplicate_list_score: Decimal = Decimal("0.300")  # Art 12: a similar project is listed from this score
    duplicate_ack_score: Decimal = Decimal("0.600")  # ... and above this one must be acknowledged
    duplicate_list_max: int = 10

    @classmethod
    def from_settings(
        cls,
        expert_panel_threshold: object,
        filing_threshold: object,
        panel_min_experts: object,
        panel_expert_levels: object,
        classified_visible_to: object = "",
        duplicate_list_score: object = "0.300",
        duplicate_ack_score: object = "0.600",
        duplicate_list_max: object = 10,
    ) -> "ReviewRules":
        """The rules from config values; a value that would break Art 12 stops the service at start."""
        levels = _list_setting(panel_expert_levels)
        unknown = set(levels) - {level.value for level in ExpertLevel}
        if unknown or not levels:
            raise ValueError(f"PANEL_EXPERT_LEVELS: unknown or empty levels {sorted(unknown)}")
        if ExpertLevel.COUNTY.value in levels:
            raise ValueError("PANEL_EXPERT_LEVELS: Art 12 seats panel experts at city level or above, not county")
        panel_threshold = _money_setting("EXPERT_PANEL_THRESHOLD", expert_panel_threshold)
        filing = _money_setting("FILING_THRESHOLD", filing_threshold)
        if filing > panel_threshold:
            raise ValueError(
                f"FILING_THRESHOLD ({filing}) may not exceed EXPERT_PANEL_THRESHOLD ({panel_threshold}): "
                "Art 12 would then file projects that need an expert panel"
            )
        minimum = _int_setting("PANEL_MIN_EXPERTS", panel_min_experts)
        if minimum < ART_12_MIN_PANEL:
            raise ValueError(f"PANEL_MIN_EXPERTS: Art 12 requires at least {ART_12_MIN_PANEL} experts, got {minimum}")
        orgs = org_list_setting(classified_visible_to if isinstance(classified_visible_to, (str, list, tuple)) else "")
        listed, strong = (
            _score_setting("DUPLICATE_LIST_SCORE", duplicate_list_score),
            _score_setting("DUPLICATE_ACK_SCORE", duplicate_ack_score),
        )
        if listed > strong:
            raise ValueError(f"DUPLICATE_LIST_SCORE ({listed}) may not exceed DUPLICATE_ACK_SCORE ({strong})")
        most = _int_setting("DUPLICATE_LIST_MAX", duplicate_list_max)
        if not 1 <= most <= 50:
            raise ValueError(f"DUPLICATE_LIST_MAX: between 1 and 50, got {most}")
        return cls(panel_threshold, filing, minimum, tuple(levels), orgs, listed, strong, most)


def _int_setting(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


def _list_setting(value: object) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value] if isinstance(value, (list, tuple)) else []


def _score_setting(name: str, value: object) -> Decimal:
    """A similarity score between 0 and 1 (Art 12 duplicates)."""
    try:
        score = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name}: expected a score between 0 and 1, got {value!r}") from None
    if not score.is_finite() or not 0 < score <= 1:
        raise ValueError(f"{name}: expected a score between 0 and 1, got {value!r}")
    return score


def _money_setting(name: str, value: object) -> Decimal:
    amount = parse_money(str(value))
    if amount is None:
        raise ValueError(f"{name}: expected a money string like '2000000.00', got {value!r}")
    return amount


@dataclass
class PlannedProject:
    """What review knows of a project in the annual or supplementary plan, from ``project.planned``."""

    project_id: str
    name: str
    unit: str
    construction_mode: str
    estimated_investment: Decimal
    requires_construction_plan: bool
    classified: bool
    custom_software: bool
    changed_estimate: Decimal | None = None
    estimate_change_id: str | None = None
    hosted_on_big_data_center: bool = False  # Art 24: its MLPS grade is filed before acceptance

    @property
    def estimate(self) -> Decimal:
        """The estimate (概算) as it stands: as planned, or as an approved change set it (Art 18)."""
        return self.estimated_investment if self.changed_estimate is None else self.changed_estimate


@dataclass
class Expert:
    expert_id: str
    name: str
    level: str
    field: str
    employer: str


@dataclass(eq=False)
class PanelSeat:
    """One expert assigned to a review, and the opinion that expert gave."""

    review_id: str
    expert_id: str
    position: int
    verdict: str | None = None
    opinion: str | None = None


@dataclass
class Review:
    review_id: str
    project_id: str
    route: str
    status: str
    budget: Decimal
    title: str
    document_ref: str | None
    submitted_by: str
    submitted_at: dt.datetime
    experts: list[PanelSeat] = field(default_factory=list)
    opinion: str | None = None
    concluded_by: str | None = None
    concluded_at: dt.datetime | None = None
    # Art 12: the similar declared or planned projects found at submission (``domain.duplicates``)
    duplicates: list[dict[str, object]] = field(default_factory=list)
    duplicates_acknowledged_by: str | None = None
    duplicates_acknowledged_at: dt.datetime | None = None
    duplicates_comment: str | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_expert(name: str, level: str, field: str, employer: str) -> Expert:
    """A new member of the expert pool (Art 12)."""
    return Expert(expert_id=new_id("exp"), name=name, level=level, field=field, employer=employer)
