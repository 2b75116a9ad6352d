"""The portal in a real browser: headless Debian ``chromium`` driven by ``playwright`` opens the
list, filters it by year, opens a project, on a desktop and a phone's screen; no console error, and
the screenshots are left in ``.data/portal-screenshots/`` (printed). The public side runs as it is
deployed, a process of its own (``python -m nxshared.public_runner``) on the test's database.
Skipped, saying why, where playwright or chromium is missing or chromium cannot start (``make
setup`` installs both: playwright from requirements.lock, chromium with apt when run as root)."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from nameko.testing.utils import find_free_port

from planning.service import PlanningService

from .portal_data import SECRET_NAME, county

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / ".data" / "portal-screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (make setup installs it from requirements.lock)"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing (make setup installs Debian's chromium with apt when run as root)"
    return None


@pytest.fixture
def planning(container_factory, service_config, db_backend):
    if db_backend != "sqlite":
        pytest.skip("the browser test runs once, on SQLite (the pages' reads are tested on both backends)")
    container = container_factory(PlanningService, service_config("planning", TODAY="2026-12-15"))
    container.start()
    return container


@pytest.fixture
def public_side(planning):
    """planning's public side, as ``make up`` starts it, on the test container's database."""
    address, ops = f"127.0.0.1:{find_free_port()}", f"127.0.0.1:{find_free_port()}"
    env = {
        **os.environ,
        "NX_DATABASE_URL": planning.config["DATABASE_URL"],
        "NX_PUBLIC_ADDRESS": address,
        "NX_PUBLIC_OPS_ADDRESS": ops,
        "NX_PUBLIC_NICE": "0",
        "NX_PUBLIC_CACHE_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "nxshared.public_runner", str(ROOT / "services" / "planning")],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://{ops}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the public side did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_resident_lists_filters_and_opens_a_project_in_chromium(planning, public_side):
    missing = browser_missing()
    if missing:
        pytest.skip(f"no browser test: {missing}")
    town = county(planning)
    ran = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("browse_portal.py")), public_side, str(SHOTS)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "CHROMIUM": CHROMIUM},
    )  # fmt: skip
    if ran.returncode != 0 and "launch" in ran.stderr and "Target page" not in ran.stderr:
        pytest.skip(f"chromium cannot start here: {ran.stderr.strip().splitlines()[-1][:300]}")
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    print(f"\nportal screenshots: {', '.join(seen['screenshots'])}")
    assert seen["errors"] == []
    for screen in ("desktop", "phone"):
        assert seen[f"{screen}_list_status"] == 200
        assert seen[f"{screen}_list_summary"].startswith("共 4 个项目")
        assert "year=2027" in seen[f"{screen}_filtered_url"]
        assert seen[f"{screen}_filtered_summary"].startswith("共 3 个项目，估算总投资 4,500,000.00 元")
        assert seen[f"{screen}_chart"] == "2027 年各类别项目估算投资"
        assert seen[f"{screen}_project_title"] == "网络安全态势感知"  # the newest of 2027
        assert seen[f"{screen}_project_lang"] == "zh-CN"
    assert SECRET_NAME not in ran.stdout and town["secret"] not in ran.stdout
    for shot in seen["screenshots"]:
        assert Path(shot).stat().st_size > 10_000
