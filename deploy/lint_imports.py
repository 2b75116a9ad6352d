"""The architecture's import rules, checked with import-linter over the installed services.

The contracts are written here from the installed services (``nx.services`` entry points), so a
new service is checked without editing any configuration:

1. a service's domain (``<service>.domain``, ``.usecases``, ``.events``) imports no framework —
   not nameko, eventlet, kombu, SQLAlchemy, jwt, marshmallow or prometheus_client — not even
   through ``nxshared`` (only ``nxshared.core`` is pure);
2. ``nxshared.core`` imports none of them either;
3. no service imports another;
4. ``nxshared`` imports no service.

Run by ``make lint`` and ``make test``: ``python deploy/lint_imports.py`` (exit 1 on a broken rule).
"""

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

from nxshared.discovery import installed_services

FRAMEWORKS = ("nameko", "eventlet", "kombu", "sqlalchemy", "jwt", "marshmallow", "prometheus_client")
PURE_PARTS = ("domain", "usecases", "events")


def _lines(items):
    return "".join(f"\n    {item}" for item in items)


def _contract(key, name, kind, **fields):
    body = "".join(f"{field} ={_lines(values)}\n" for field, values in fields.items())
    return f"[importlinter:contract:{key}]\nname = {name}\ntype = {kind}\n{body}\n"


def config(packages):
    pure = [f"{p}.{part}" for p in packages for part in PURE_PARTS if importlib.util.find_spec(f"{p}.{part}")]
    sections = [
        f"[importlinter]\nroot_packages ={_lines(['nxshared', *packages])}\ninclude_external_packages = True\n\n",
        _contract(
            "pure-domain",
            "Domain modules import no framework, not even through nxshared",
            "forbidden",
            source_modules=pure,
            forbidden_modules=FRAMEWORKS,
        ),
        _contract(
            "pure-core",
            "nxshared.core imports no framework",
            "forbidden",
            source_modules=["nxshared.core"],
            forbidden_modules=FRAMEWORKS,
        ),
        _contract(
            "shared-knows-no-service",
            "nxshared imports no service",
            "forbidden",
            source_modules=["nxshared"],
            forbidden_modules=packages,
        ),
    ]
    if len(packages) > 1:
        sections.append(
            _contract("independent-services", "No service imports another", "independence", modules=packages)
        )
    return "".join(sections)


def main():
    packages = sorted({service.target.split(".", 1)[0] for service in installed_services()})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".importlinter"
        path.write_text(config(packages), encoding="utf-8")
        lint = Path(sys.executable).with_name("lint-imports")
        return subprocess.call([str(lint), "--no-cache", "--no-logo", str(path)])


if __name__ == "__main__":
    sys.exit(main())
