"""The authorization matrix (every installed RPC method × every kind of org) as the README prints
it, checked over real RPC: an org outside a method's ``allow`` gets ``Forbidden`` ``FORBIDDEN``
before anything is read; an allowed org gets past authorization (whatever the empty arguments then
earn it)."""

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from nxshared.core.errors import CONTRACT_ERRORS, Forbidden
from nxshared.discovery import installed_services
from nxshared.testing import call

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("authz_matrix", ROOT / "deploy" / "authz_matrix.py")
authz = importlib.util.module_from_spec(spec)
sys.modules["authz_matrix"] = authz
spec.loader.exec_module(authz)


def test_the_readme_prints_the_matrix_the_code_declares():
    readme = authz.README.read_text(encoding="utf-8")
    assert authz.START in readme and authz.END in readme
    assert authz.readme_with_matrix(readme) == readme, "README is stale: run python deploy/authz_matrix.py --write"


@pytest.mark.parametrize("service", [s.name for s in installed_services()])
def test_every_cell_holds_over_real_rpc(service, container_factory, service_config):
    installed = next(s for s in installed_services() if s.name == service)
    container = container_factory(installed.load(), service_config(service))
    container.start()
    checked = 0
    for svc, method, cells in authz.matrix():
        if svc != service:
            continue
        params = list(inspect.signature(getattr(container.service_cls, method)).parameters)[1:]
        for org, allowed in cells.items():
            try:
                call(container, method, org, **dict.fromkeys(params))
                refusal = None
            except CONTRACT_ERRORS as exc:
                refusal = exc
            denied = isinstance(refusal, Forbidden) and refusal.code == "FORBIDDEN"
            assert denied != allowed, f"{service}.{method} as {org}: expected {'allow' if allowed else 'deny'}"
            assert refusal is None or refusal.code != "INTERNAL_ERROR", f"{service}.{method}({params}) crashed"
            checked += 1
    assert checked > 0
