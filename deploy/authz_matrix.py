"""The authorization matrix: every RPC method of every installed service × every kind of org,
from each method's declaration (``@rpc(allow=[…])``). Printed as Markdown into the README between
markers; ``tests/authz`` checks the README against it and every cell over real RPC.

    python deploy/authz_matrix.py            print the table
    python deploy/authz_matrix.py --write    rewrite the README's table
"""

import inspect
import sys
from pathlib import Path

from nxshared.core.caller import BUREAUS, Caller
from nxshared.discovery import installed_services

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- authz-matrix:start -->", "<!-- authz-matrix:end -->"
SAMPLE_UNIT = "unit:edu"  # stands for any unit: `unit:*`
ORGS = (*BUREAUS, SAMPLE_UNIT)


def rpc_methods(service_cls):
    """``(method name, allowed orgs)`` of each ``@rpc`` method of a service class."""
    for name, method in sorted(inspect.getmembers(service_cls, callable)):
        allowed = getattr(method, "allowed_orgs", None)
        if allowed is not None:
            yield name, allowed


def matrix():
    """``[(service, method, {org: allowed})]`` for every installed service."""
    rows = []
    for service in installed_services():
        for method, allowed in rpc_methods(service.load()):
            rows.append((service.name, method, {org: Caller("matrix", org).is_one_of(allowed) for org in ORGS}))
    return rows


def markdown():
    header = "| method | " + " | ".join("`unit:*`" if o == SAMPLE_UNIT else f"`{o}`" for o in ORGS) + " |"
    lines = [header, "|---|" + "---|" * len(ORGS)]
    for service, method, cells in matrix():
        lines.append(f"| `{service}.{method}` | " + " | ".join("✓" if cells[o] else "—" for o in ORGS) + " |")
    return "\n".join(lines)


def readme_with_matrix(text):
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{markdown()}\n{END}{after}"


def main(argv):
    if argv == ["--write"]:
        README.write_text(readme_with_matrix(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown())


if __name__ == "__main__":
    main(sys.argv[1:])
