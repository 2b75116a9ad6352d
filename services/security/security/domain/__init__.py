"""Security's rules (RULES §Security, §Testing and acceptance; Art 22–25), in plain Python.

Security learns of projects only from events, in whatever order they arrive: ``project.planned``
(Art 10; whether the project is classified and hosted on the Big Data Center), finance's
``contract.registered`` (under construction) and review's ``acceptance.passed`` (accepted). The
decisions taken here:

- **MLPS grading and filing (Art 24).** The data center grades a planned project's system at one of
  the five levels, with its basis, and files the grade with the filing number and the evaluation
  agency it selected. Filing needs a grade (``NOT_GRADED``); a grade is filed once
  (``ALREADY_FILED``); a filing number names one system (``FILING_NO_TAKEN``). Re-grading is allowed
  at any time and takes a filed system back to ``graded``: the new grade must be filed again. Any
  planned project may be graded; a filing is *due* only for projects hosted on the Big Data Center.
- **Inspections (Art 23).** Recorded with whether they passed; a failed one names its findings. A
  project under construction or accepted is inspected at least every ``INSPECTION_INTERVAL_DAYS``,
  the first time within that interval of its contract's signing.
- **Incidents (Art 23).** Reported with a severity, a description and when they occurred (not after
  now); the response is due ``INCIDENT_RESPONSE_HOURS[severity]`` after the occurrence. An incident
  is resolved once; a response after the deadline is recorded as late.
- **What is late** (``overdue``): see ``security.domain.overdue``; a periodic check keeps the list
  and the gauges, ``get_posture`` works it out for one project.
- **Who sees what (Art 4, 25).** Every bureau and the owner see a project's posture; a classified
  project exists only for its owner and ``CLASSIFIED_VISIBLE_TO`` — in security that holds for the
  data center too. A project security has not heard is planned is ``NOT_IN_ANNUAL_PLAN`` to the data
  center's decisions and ``NotFound`` to a read.

By article group: ``entities`` (the entities, states and settings), ``learning`` (other bureaus'
events), ``access`` (Art 4, 10, 25), ``mlps`` (Art 24), ``inspections`` and ``incidents`` (Art 23),
``overdue`` (Art 22–24). Every guard raises a domain error carrying its code and article; every
decision returns the typed events (``security.events``) it caused.
"""

from security.domain.access import acted_on, can_see, check_in_plan, check_visible
from security.domain.entities import (
    MLPS_LEVELS,
    Incident,
    IncidentStatus,
    Inspection,
    MlpsStatus,
    Overdue,
    OverdueKind,
    OverdueReport,
    Posture,
    Project,
    SecurityRules,
    Severity,
    moment,
    new_id,
    start_of,
)
from security.domain.incidents import check_occurred, check_open, report_incident, resolve_incident
from security.domain.inspections import check_findings, record_inspection
from security.domain.learning import learn_accepted, learn_contracted, learn_planned, project_of
from security.domain.mlps import (
    check_filing_no_free,
    check_graded,
    check_level,
    check_not_filed,
    file_grading,
    grade_system,
)
from security.domain.overdue import (
    check_overdue,
    filing_overdue,
    incident_overdue,
    inspection_overdue,
    overdue_of,
    posture,
    reminders_of,
    visible_overdue,
)

__all__ = [
    "MLPS_LEVELS",
    "Incident",
    "IncidentStatus",
    "Inspection",
    "MlpsStatus",
    "Overdue",
    "OverdueKind",
    "OverdueReport",
    "Posture",
    "Project",
    "SecurityRules",
    "Severity",
    "acted_on",
    "can_see",
    "check_filing_no_free",
    "check_findings",
    "check_graded",
    "check_in_plan",
    "check_level",
    "check_not_filed",
    "check_occurred",
    "check_open",
    "check_overdue",
    "check_visible",
    "file_grading",
    "filing_overdue",
    "grade_system",
    "incident_overdue",
    "inspection_overdue",
    "learn_accepted",
    "learn_contracted",
    "learn_planned",
    "moment",
    "new_id",
    "overdue_of",
    "posture",
    "reminders_of",
    "project_of",
    "record_inspection",
    "report_incident",
    "resolve_incident",
    "start_of",
    "visible_overdue",
]
