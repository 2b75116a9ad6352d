"""Duplicate projects (Art 12): a construction plan is reviewed for "重复建设" — whether the county
already declared or built a project doing the same thing. Art 12 asks the review to weigh
"必要性、可行性 … 是否重复建设"; the suite lists the similar projects it knows, with a score, and a
plan whose best match scores above ``DUPLICATE_ACK_SCORE`` passes only after the data center has
explicitly acknowledged the matches (``acknowledge_duplicates``).

Similarity is TF-IDF cosine over Chinese-aware terms: character bigrams of each run of CJK
characters (as Lucene's CJK bigram analyzer does: Chinese has no spaces, and two characters are
the most common length of a word), and each run of Latin letters or digits as one term (``5G``,
``GIS``). Name and summary count alike; term frequency is sub-linear, ``idf =
ln((N+1)/(df+1)) + 1``. The index keeps postings per term; a lookup scores every project sharing
one of the query's selective terms (those in at most ``COMMON_SHARE`` of the corpus) by the part of
the dot product they give, then the best ``CANDIDATES`` exactly.

Plain Python, nothing downloaded; the service keeps one index per database as a cache of the
projects review has heard of (``review.repository``)."""

import datetime as dt
import heapq
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from nxshared.core.caller import Caller, may_see
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import DomainEvent
from review.domain.entities import Review, ReviewRules, ReviewStatus
from review.events import DuplicatesAcknowledged

NAME_WEIGHT = 1  # the name's terms count as often as they occur, as the summary's (measured: bench/duplicates.py)
COMMON_SHARE = 0.1  # a term in more than this share of the corpus finds no candidates by itself
CANDIDATES = 50  # scored exactly after the first pass
SCORE_PLACES = Decimal("0.001")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")


class CorpusStatus:
    """Where a known project stands: declared (``project.declared``), planned (``project.planned``),
    or left out of the plan (``project.not_planned``: no longer a project anyone builds)."""

    DECLARED = "declared"
    PLANNED = "planned"
    NOT_PLANNED = "not_planned"


MATCHED_STATUSES = (CorpusStatus.DECLARED, CorpusStatus.PLANNED)


@dataclass
class KnownProject:
    """A project review has heard of, as the declaration and the plan describe it (Art 6–10)."""

    project_id: str
    name: str
    summary: str
    unit: str
    classified: bool
    status: str
    version: int = 0  # the corpus version that wrote it (review.repository keeps the cache by it)


@dataclass(frozen=True)
class DuplicateMatch:
    project_id: str
    name: str
    unit: str
    status: str
    classified: bool
    score: Decimal

    def as_record(self) -> dict[str, object]:
        return {
            "project_id": self.project_id,
            "name": self.name,
            "unit": self.unit,
            "status": self.status,
            "classified": self.classified,
            "score": str(self.score),
        }


def terms(name: str, summary: str) -> Counter[str]:
    """The project's terms: CJK character bigrams (a lone character stays a term), Latin and digit
    runs whole; NFKC-folded and lower-cased, so full-width ``５Ｇ`` and ``5G`` are one term."""
    found: Counter[str] = Counter()
    for text, weight in ((name, NAME_WEIGHT), (summary, 1)):
        for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
            if run.isascii() or len(run) == 1:
                found[run] += weight
            else:
                for i in range(len(run) - 1):
                    found[run[i : i + 2]] += weight
    return found


def _tf(count: int) -> float:
    return 1.0 + math.log(count)


@dataclass
class SimilarityIndex:
    """An inverted index of the known projects' terms (pure Python, no I/O)."""

    docs: dict[str, Counter[str]] = field(default_factory=dict)
    meta: dict[str, KnownProject] = field(default_factory=dict)
    df: Counter[str] = field(default_factory=Counter)
    postings: dict[str, set[str]] = field(default_factory=dict)
    version: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.docs)

    def put(self, project: KnownProject) -> None:
        """Adds or replaces the project; one no longer matched (not planned) is removed."""
        self.remove(project.project_id)
        if project.status not in MATCHED_STATUSES:
            return
        bag = terms(project.name, project.summary)
        self.docs[project.project_id] = bag
        self.meta[project.project_id] = project
        for term in bag:
            self.df[term] += 1
            self.postings.setdefault(term, set()).add(project.project_id)

    def remove(self, project_id: str) -> None:
        bag = self.docs.pop(project_id, None)
        self.meta.pop(project_id, None)
        for term in bag or ():
            self.df[term] -= 1
            self.postings[term].discard(project_id)
            if not self.df[term]:
                del self.df[term], self.postings[term]

    def idf(self, term: str) -> float:
        return math.log((len(self.docs) + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def _weights(self, bag: Counter[str]) -> dict[str, float]:
        return {term: _tf(count) * self.idf(term) for term, count in bag.items()}

    def cosine(self, query: dict[str, float], query_norm: float, project_id: str) -> float:
        weights = self._weights(self.docs[project_id])
        norm = math.sqrt(sum(w * w for w in weights.values()))
        dot = sum(w * weights[t] for t, w in query.items() if t in weights)
        return dot / (query_norm * norm) if norm and query_norm else 0.0

    def similar(self, bag: Counter[str], exclude: str, limit: int, min_score: float) -> list[tuple[str, float]]:
        """The projects most like ``bag`` (not ``exclude``), best first, scoring at least ``min_score``."""
        query = self._weights(bag)
        query_norm = math.sqrt(sum(w * w for w in query.values()))
        common = max(5, COMMON_SHARE * len(self.docs))
        partial: dict[str, float] = {}
        for term, weight in query.items():
            holders = self.postings.get(term, ())
            if len(holders) > common:
                continue
            gain = weight * self.idf(term)
            for project_id in holders:
                partial[project_id] = partial.get(project_id, 0.0) + gain
        partial.pop(exclude, None)
        best = heapq.nlargest(CANDIDATES, partial, key=partial.__getitem__)
        scored = [(pid, self.cosine(query, query_norm, pid)) for pid in best]
        return sorted(((p, s) for p, s in scored if s >= min_score), key=lambda m: (-m[1], m[0]))[:limit]

    def similar_exhaustive(
        self, bag: Counter[str], exclude: str, limit: int, min_score: float
    ) -> list[tuple[str, float]]:
        """Every project scored exactly: the baseline the bench measures ``similar`` against."""
        query = self._weights(bag)
        query_norm = math.sqrt(sum(w * w for w in query.values()))
        scored = [(pid, self.cosine(query, query_norm, pid)) for pid in self.docs if pid != exclude]
        return sorted(((p, s) for p, s in scored if s >= min_score), key=lambda m: (-m[1], m[0]))[:limit]


def merge_known(
    known: KnownProject | None,
    project_id: str,
    name: str,
    summary: str | None,
    unit: str,
    classified: bool,
    status: str,
) -> KnownProject:
    """What review knows of a project after one more event: the latest name, unit and secrecy; a
    summary only ``project.declared`` carries (kept when a later event has none); a project left out
    of the plan stays out, whatever arrives after it."""
    if known is None:
        known = KnownProject(project_id, name, summary or "", unit, classified, status)
    known.name = name or known.name
    known.summary = summary if summary else known.summary
    known.unit, known.classified = unit, classified
    if known.status != CorpusStatus.NOT_PLANNED and not (
        status == CorpusStatus.DECLARED and known.status == CorpusStatus.PLANNED
    ):
        known.status = status
    return known


def find_duplicates(
    index: SimilarityIndex, project_id: str, name: str, summary: str, title: str, rules: ReviewRules
) -> list[DuplicateMatch]:
    """Art 12: the declared or planned projects most like this one (its name, summary and the
    plan's title), scoring at least ``DUPLICATE_LIST_SCORE``, best first."""
    bag = terms(f"{name} {title}", summary)
    found = index.similar(bag, project_id, rules.duplicate_list_max, float(rules.duplicate_list_score))
    return [_match(index.meta[pid], score) for pid, score in found]


def _match(project: KnownProject, score: float) -> DuplicateMatch:
    rounded = Decimal(str(score)).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)
    return DuplicateMatch(project.project_id, project.name, project.unit, project.status, project.classified, rounded)


def needing_acknowledgement(review: Review, rules: ReviewRules) -> list[dict[str, object]]:
    """The matches scoring above ``DUPLICATE_ACK_SCORE``: the data center must acknowledge them."""
    return [m for m in review.duplicates or [] if Decimal(str(m["score"])) > rules.duplicate_ack_score]


def check_duplicates_acknowledged(review: Review, rules: ReviewRules) -> None:
    """Art 12: a plan that looks like a project the county already has passes only once the data
    center has acknowledged the match (it found the project is no duplicate, or the duplication is
    justified)."""
    strong = needing_acknowledgement(review, rules)
    if strong and review.duplicates_acknowledged_at is None:
        names = "、".join(f"{m['name']}（{m['score']}）" for m in strong[:3])
        raise RuleViolation(
            "DUPLICATES_NOT_ACKNOWLEDGED",
            f"建设方案与已申报或已建项目高度相似：{names}；须由数据中心确认不属于重复建设后方可通过评审（第十二条）",
            "Art 12",
        )


def acknowledge(
    review: Review, rules: ReviewRules, comment: str, caller: Caller, now: dt.datetime
) -> list[DomainEvent]:
    """Art 12: the data center acknowledges the strong matches of a review under way, with its reasons."""
    if review.status != ReviewStatus.UNDER_REVIEW.value:
        raise Conflict("REVIEW_NOT_OPEN", f"评审 {review.review_id} 已有结论，不能再确认相似项目（第十二条）")
    strong = needing_acknowledgement(review, rules)
    if not strong:
        raise Conflict("NO_DUPLICATES_TO_ACKNOWLEDGE", "该评审没有须确认的高度相似项目（第十二条）")
    if review.duplicates_acknowledged_at is not None:
        raise Conflict("DUPLICATES_ALREADY_ACKNOWLEDGED", f"评审 {review.review_id} 的相似项目已经确认（第十二条）")
    review.duplicates_acknowledged_by = caller.actor
    review.duplicates_acknowledged_at = now
    review.duplicates_comment = comment
    acknowledged = DuplicatesAcknowledged(
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        project_ids=[str(m["project_id"]) for m in strong],
        comment=comment,
    )
    return [acknowledged]


def visible_duplicates(
    matches: Iterable[dict[str, object]], caller: Caller, rules: ReviewRules
) -> list[dict[str, object]]:
    """Art 4, 25: a classified match is listed only to those who may see that project."""
    return [
        m
        for m in matches
        if may_see(caller, _Visible(str(m["unit"]), bool(m["classified"])), rules.classified_visible_to)
    ]


@dataclass(frozen=True)
class _Visible:
    unit: str
    classified: bool
    construction_mode: str = "self_built"


class ReviewSeen:
    """A review as one caller sees it: its duplicate matches only those the caller may see (Art 4,
    25); every other attribute is the review's own."""

    def __init__(self, review: Review, duplicates: list[dict[str, object]]) -> None:
        self._review = review
        self.duplicates = duplicates

    def __getattr__(self, name: str) -> object:
        return getattr(self._review, name)


def as_seen_by(review: Review, caller: Caller, rules: ReviewRules) -> ReviewSeen:
    return ReviewSeen(review, visible_duplicates(review.duplicates or [], caller, rules))
