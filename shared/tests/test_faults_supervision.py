"""``make up`` supervises: a service killed with ``kill -9`` is started again by its supervisor,
``status`` says so, ``up`` again is harmless and ``down`` stops service and supervisor."""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.e2e.conftest import ROOT, SUITE, Suite, wait_for

pytestmark = pytest.mark.e2e


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pid_file(suite, name):
    try:
        return int((suite.run_dir / name).read_text())
    except (OSError, ValueError):
        return None


def healthy(suite):
    try:
        return suite.http("planning", "/health")["status"] == "ok"
    except OSError:  # not listening yet
        return False


def status(suite):
    done = subprocess.run([*SUITE, "status", "planning"], env=suite.env, cwd=ROOT, capture_output=True, text=True)
    return done.stdout


def test_a_killed_service_is_restarted_and_status_shows_why(rabbit_config, tmp_path):
    suite = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    try:
        suite.up("planning")
        supervisor = pid_file(suite, "planning.supervisor.pid")
        first = pid_file(suite, "planning.pid")
        assert supervisor and first and alive(supervisor)
        assert "restarts 0, last exit: none" in status(suite)

        os.killpg(first, signal.SIGKILL)
        wait_for(lambda: pid_file(suite, "planning.pid") not in (None, first), what="a restarted planning")
        wait_for(lambda: healthy(suite), what="planning healthy again")
        report = status(suite)
        assert "planning: healthy" in report
        assert "restarts 1, last exit: killed by SIGKILL" in report
        log = (suite.run_dir / "planning.log").read_text()
        assert "supervisor: planning exited unexpectedly (killed by SIGKILL); restarting in 1 s" in log

        suite.up("planning")  # already supervised with the same settings: nothing changes
        assert pid_file(suite, "planning.supervisor.pid") == supervisor
        second = pid_file(suite, "planning.pid")
    finally:
        suite.close()
    deadline = time.monotonic() + 30
    while (alive(supervisor) or alive(second)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(supervisor) and not alive(second)
    assert "planning: stopped" in status(suite)


def test_a_service_that_cannot_start_is_reported_not_retried_forever_by_up(rabbit_config, tmp_path):
    suite = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    env = {**suite.env, "NX_PLANNING_DATABASE_URL": "nosuchdriver://planning"}
    try:
        done = subprocess.run([*SUITE, "up", "planning"], env=env, cwd=ROOT, capture_output=True, text=True)
    finally:
        suite.close()
    assert done.returncode != 0
    # planning's public side reads the same database: whichever of the two fails first is reported
    assert re.search(r"planning(-public)? exited while starting \(exit code 1\)", done.stderr), done.stderr
    assert pid_file(suite, "planning.supervisor.pid") is None
    assert pid_file(suite, "planning-public.supervisor.pid") is None


def test_a_supervisor_whose_run_directory_is_removed_stops_its_service(rabbit_config, tmp_path):
    suite = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    try:
        suite.up("planning")
        supervisor = pid_file(suite, "planning.supervisor.pid")
        service = pid_file(suite, "planning.pid")
        (suite.run_dir / "planning.supervisor.pid").unlink()
        wait_for(lambda: not alive(supervisor) and not alive(service), what="supervisor and service to stop")
    finally:
        suite.close()
