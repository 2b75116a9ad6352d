"""The disclosed projects as open data: an OC4IDS 0.9 project package and an OCDS 1.1 release
package (the schemas and codelists of both are vendored in ``services/planning/tests/standards``
and every output is validated against them in the tests).

Each project is one OC4IDS project and one OCDS contracting process (its ``ocid``): the building
unit is the public authority and buyer, the county finance bureau funds and pays, the contract's
vendor supplies and is paid; each disbursement is a transaction. An OCDS release is *compiled*
(``tag: compiled``): the state of the process now, from what planning keeps of it. Amounts are
yuan (``CNY``); dates are UTC as the events carry them, a day alone as 00:00 in China (+08:00)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from nxshared.clock import Clock
from planning.domain.timeline import PublicEntry
from planning.portal.labels import CATEGORY, PROCUREMENT_METHOD, org_name

OC4IDS_VERSION = "0.9"
OCDS_VERSION = "1.1"
CURRENCY = "CNY"
FINANCE = "finance"

# OC4IDS projectStatus (closed codelist) of each stage
PROJECT_STATUS = {
    "declared": "identification",
    "planned": "identification",
    "not_planned": "cancelled",
    "under_review": "preparation",
    "reviewed": "preparation",
    "review_failed": "preparation",
    "approved": "preparation",
    "approval_rejected": "preparation",
    "budgeted": "preparation",
    "budget_rejected": "preparation",
    "contracted": "implementation",
    "prechecked": "implementation",
    "acceptance_failed": "implementation",
    "accepted": "completion",
    "audited": "completion",
}
# OC4IDS projectSector (open codelist): every project is ICT; government's own systems also governance
SECTOR = {"e_government": ["communications", "governance"], "consulting": ["communications", "governance"]}
# OCDS method (closed codelist) of each lawful way of buying (Art 15)
METHOD = {
    "open_tender": "open",
    "invited_tender": "selective",
    "competitive_negotiation": "limited",
    "competitive_consultation": "limited",
    "single_source": "direct",
    "inquiry": "limited",
    "framework_agreement": "selective",
}
COMPLETED = {"accepted", "audited"}


@dataclass(frozen=True)
class Site:
    """Where the public reaches the pages and whose identifiers the records carry (settings
    ``PUBLIC_BASE_URL``, ``PUBLIC_OCID_PREFIX``, ``PUBLIC_OC4IDS_PREFIX``, ``PUBLIC_PUBLISHER``,
    ``PUBLIC_DATA_LICENSE``). The prefixes are placeholders until the county registers its own
    with the Open Contracting Partnership."""

    base_url: str = "http://127.0.0.1:8001"
    ocid_prefix: str = "ocds-nxcnty"
    oc4ids_prefix: str = "oc4ids-nxcnty"
    publisher: str = "县智慧办"
    license: str = ""  # the URL of the data's licence, once the county has chosen one
    clock: Clock = field(default_factory=Clock, compare=False)  # the day a risk rating is read on (``TODAY``)

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> "Site":
        defaults = cls()
        return cls(
            base_url=str(config.get("PUBLIC_BASE_URL") or defaults.base_url).rstrip("/"),
            ocid_prefix=str(config.get("PUBLIC_OCID_PREFIX") or defaults.ocid_prefix),
            oc4ids_prefix=str(config.get("PUBLIC_OC4IDS_PREFIX") or defaults.oc4ids_prefix),
            publisher=str(config.get("PUBLIC_PUBLISHER") or defaults.publisher),
            license=str(config.get("PUBLIC_DATA_LICENSE") or ""),
            clock=Clock(config.get("TODAY")),
        )

    def ocid(self, project_id: str) -> str:
        return f"{self.ocid_prefix}-{project_id}"

    def project_id(self, project_id: str) -> str:
        return f"{self.oc4ids_prefix}-{project_id}"


def value(amount: Any) -> dict[str, Any]:
    return {"amount": float(Decimal(str(amount))), "currency": CURRENCY}


def day(date: str) -> str:
    """A day (``2027-03-01``) as a date-time, midnight in China."""
    return f"{date[:10]}T00:00:00+08:00"


def updated(row: Mapping[str, Any], entries: Sequence[PublicEntry]) -> str:
    """When the project last changed as the public sees it: its latest public entry, or its declaration."""
    if entries:
        return entries[-1].occurred_at
    declared = row["declared_at"]
    return declared.isoformat() if declared is not None else "1970-01-01T00:00:00+00:00"


def _license(site: Site) -> dict[str, str]:
    return {"license": site.license} if site.license else {}


def _ref(org_id: str, name: str) -> dict[str, str]:
    return {"id": org_id, "name": name}


def _unit(row: Mapping[str, Any]) -> dict[str, str]:
    return _ref(row["unit"], org_name(row["unit"]))


def _vendor(row: Mapping[str, Any]) -> dict[str, str] | None:
    name = (row["contract"] or {}).get("vendor") or (row["procurement"] or {}).get("supplier")
    return None if not name else _ref(f"supplier:{name}", name)


def _finance() -> dict[str, str]:
    return _ref(FINANCE, org_name(FINANCE))


def _transactions(row: Mapping[str, Any], entries: Sequence[PublicEntry]) -> list[dict[str, Any]]:
    """Each disbursement (Art 18): finance pays the vendor (the unit, before there is one)."""
    payee = _vendor(row) or _unit(row)
    return [
        {
            "id": str(entry.data.get("disbursement_id") or entry.event_id),
            "date": entry.occurred_at,
            "value": value(entry.data["amount"]),
            "payer": _finance(),
            "payee": payee,
        }
        for entry in entries
        if entry.event_type == "funds.disbursed"
    ]


def _parties(row: Mapping[str, Any], ocds: bool) -> list[dict[str, Any]]:
    unit_roles = ["buyer", "procuringEntity"] if ocds else ["publicAuthority", "buyer", "procuringEntity"]
    parties = [{**_unit(row), "roles": unit_roles}, {**_finance(), "roles": ["funder", "payer"]}]
    vendor = _vendor(row)
    if vendor is not None:
        parties.append({**vendor, "roles": ["supplier", "payee"]})
    return parties


# --- OC4IDS ---------------------------------------------------------------------------------------


def oc4ids_project(row: Mapping[str, Any], entries: Sequence[PublicEntry], site: Site) -> dict[str, Any]:
    """One disclosed project as an OC4IDS project."""
    pid = row["project_id"]
    budget: dict[str, Any] = {
        "amount": value(row["estimated_investment"]),
        "description": f"资金来源：{row['funding_source']}",
        "budgetBreakdowns": [
            {
                "id": "annual",
                "description": "年度投资计划",
                "budgetBreakdown": [
                    {
                        "id": str(item["year"]),
                        "amount": value(item["amount"]),
                        "period": {
                            "startDate": day(f"{item['year']}-01-01"),
                            "endDate": f"{item['year']}-12-31T23:59:59+08:00",
                        },
                    }
                    for item in row["annual_investments"]
                ],
            }
        ],
    }
    if row["budget"]:
        budget["approvalDate"] = day(row["budget"]["approved_on"])
    project: dict[str, Any] = {
        "id": site.project_id(pid),
        "updated": updated(row, entries),
        "language": "zh",
        "identifiers": [{"id": pid, "scheme": "nx-planning"}],
        "title": row["name"],
        "description": row["summary"],
        "purpose": row["basis"],
        "sector": SECTOR.get(row["category"], ["communications"]),
        "additionalClassifications": [
            {
                "scheme": "nx-category",
                "id": row["category"],
                "description": CATEGORY.get(row["category"], row["category"]),
            }
        ],
        "status": PROJECT_STATUS.get(row["stage"], "identification"),
        "publicAuthority": _unit(row),
        "budget": budget,
        "parties": _parties(row, ocds=False),
    }
    process = _oc4ids_process(row, entries, site)
    if process is not None:
        project["contractingProcesses"] = [process]
    return project


def _oc4ids_process(row: Mapping[str, Any], entries: Sequence[PublicEntry], site: Site) -> dict[str, Any] | None:
    procurement, contract = row["procurement"], row["contract"]
    if not procurement and not contract:
        return None
    summary: dict[str, Any] = {
        "ocid": site.ocid(row["project_id"]),
        "title": row["name"],
        "status": ("closed" if row["stage"] in COMPLETED else "active") if contract else "pre-award",
    }
    if procurement:
        summary["tender"] = {
            "procurementMethod": METHOD[procurement["method"]],
            "procurementMethodDetails": PROCUREMENT_METHOD.get(procurement["method"], procurement["method"]),
            "procuringEntity": _unit(row),
        }
    vendor = _vendor(row)
    if vendor is not None:
        summary["suppliers"] = [vendor]
    if contract:
        summary["contractValue"] = value(contract["amount"])
        if contract.get("signed_on") and contract.get("om_ends_on"):
            summary["contractPeriod"] = {
                "startDate": day(contract["signed_on"]),
                "endDate": day(contract["om_ends_on"]),
            }
    transactions = _transactions(row, entries)
    if transactions:
        summary["transactions"] = transactions
    return {"id": site.ocid(row["project_id"]), "summary": summary}


def oc4ids_package(
    rows: Sequence[Mapping[str, Any]], timelines: Mapping[str, Sequence[PublicEntry]], site: Site, uri: str
) -> dict[str, Any]:
    projects = [oc4ids_project(row, timelines.get(row["project_id"], ()), site) for row in rows]
    return {
        "uri": f"{site.base_url}{uri}",
        "version": OC4IDS_VERSION,
        "publishedDate": max(p["updated"] for p in projects),
        "publisher": {"name": site.publisher},
        **_license(site),
        "projects": projects,
    }


# --- OCDS -----------------------------------------------------------------------------------------


def ocds_release(row: Mapping[str, Any], entries: Sequence[PublicEntry], site: Site) -> dict[str, Any]:
    """One disclosed project's contracting process as a compiled OCDS release."""
    pid, date = row["project_id"], updated(row, entries)
    ocid = site.ocid(pid)
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{date}",
        "date": date,
        "tag": ["compiled"],
        "initiationType": "tender",
        "language": "zh",
        "parties": _parties(row, ocds=True),
        "buyer": _unit(row),
        "planning": {
            "rationale": row["basis"],
            "budget": {
                "id": pid,
                "description": f"资金来源：{row['funding_source']}",
                "amount": value((row["budget"] or {}).get("approved_amount") or row["estimated_investment"]),
                "project": row["name"],
                "projectID": site.project_id(pid),
            },
        },
    }
    procurement, contract = row["procurement"], row["contract"]
    vendor = _vendor(row)
    if procurement:
        release["tender"] = {
            "id": f"{pid}-tender",
            "title": row["name"],
            "status": "complete",
            "procuringEntity": _unit(row),
            "procurementMethod": METHOD[procurement["method"]],
            "procurementMethodDetails": PROCUREMENT_METHOD.get(procurement["method"], procurement["method"]),
        }
    if contract:
        award_id = f"{pid}-award"
        award: dict[str, Any] = {"id": award_id, "status": "active", "value": value(contract["amount"])}
        if vendor is not None:
            award["suppliers"] = [vendor]
        if procurement and procurement.get("date"):
            award["date"] = day(procurement["date"])
        release["awards"] = [award]
        signed: dict[str, Any] = {
            "id": str(contract.get("contract_no") or f"{pid}-contract"),
            "awardID": award_id,
            "status": "active",
            "value": value(contract["amount"]),
        }
        if contract.get("signed_on"):
            signed["dateSigned"] = day(contract["signed_on"])
            if contract.get("om_ends_on"):
                signed["period"] = {"startDate": day(contract["signed_on"]), "endDate": day(contract["om_ends_on"])}
        transactions = _transactions(row, entries)
        if transactions:
            signed["implementation"] = {"transactions": transactions}
        release["contracts"] = [signed]
    return release


def ocds_package(
    rows: Sequence[Mapping[str, Any]], timelines: Mapping[str, Sequence[PublicEntry]], site: Site, uri: str
) -> dict[str, Any]:
    releases = [ocds_release(row, timelines.get(row["project_id"], ()), site) for row in rows]
    return {
        "uri": f"{site.base_url}{uri}",
        "version": OCDS_VERSION,
        "publishedDate": max(r["date"] for r in releases),
        "publisher": {"name": site.publisher},
        **_license(site),
        "releases": releases,
    }
