"""The public side as ``make up`` runs it: a process of its own (``planning-public``), supervised
beside planning, on its own public address; ops pages only on the ops addresses."""

import subprocess
import urllib.error
import urllib.request

import pytest

from .conftest import ROOT, SUITE, wait_for
from .flows import declare

pytestmark = pytest.mark.e2e


def fetch(url, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def answers(url):
    try:
        return fetch(url)[0] == 200
    except OSError:  # not listening yet
        return False


def test_the_public_side_runs_apart_caches_sheds_nothing_needed_and_is_supervised(suite):
    suite.up("planning")
    status = subprocess.run([*SUITE, "status"], env=suite.env, cwd=ROOT, capture_output=True, text=True).stdout
    assert "planning: healthy" in status and "planning-public: healthy" in status

    pid = declare(suite)
    public = f"http://127.0.0.1:{suite.public_ports['planning']}"
    code, headers, body = fetch(f"{public}/public/projects/{pid}")
    assert code == 200 and pid.encode() in body
    assert headers["Cache-Control"].startswith("public, max-age=")
    assert fetch(f"{public}/public/projects/{pid}", headers={"If-None-Match": headers["ETag"]})[0] == 304

    # ops pages are not on the public address; the service's own port serves no public page
    for path in ("/metrics", "/health", "/health/live"):
        assert fetch(f"{public}{path}")[0] == 404
    assert fetch(f"http://127.0.0.1:{suite.ports['planning']}/public/projects")[0] == 404
    assert fetch(f"{public}/public/projects", method="POST")[0] == 405
    assert fetch(f"{public}/public/projects?page_size=" + "9" * 600)[0] == 414
    assert suite.http("planning-public", "/health")["status"] == "ok"
    assert "nx_public_requests_total" in suite.http("planning-public", "/metrics")

    suite.kill9("planning-public")  # supervised like the service: started again
    wait_for(lambda: answers(f"{public}/public/projects/{pid}"), what="the public side back")
    assert '"restarts": 1' in (suite.run_dir / "planning-public.state.json").read_text()
    assert suite.http("planning", "/health")["status"] == "ok"
