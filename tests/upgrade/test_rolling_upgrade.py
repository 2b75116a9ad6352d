"""Rolling upgrades (issue 23): a bureau upgrades its service while the others run the previous
release, and the reverse, while projects flow.

The previous release (``deploy/releases.txt``) is taken out of git history into a temporary folder
and its services run from there with the current virtualenv's libraries (``release.py``). Projects
are driven planning → review → approval (the fault suite's driver) throughout:

1. planning and approval run at the current tree, review from the previous release: review decodes
   the current planning's events and approval decodes the old review's;
2. mid-flow, the upgrade rolls the other way, one service at a time: review is upgraded, then
   planning and approval are taken back to the previous release (the reverse arrangement), each
   database first migrated down to the release's head by the current migrations, as a bureau would;
3. nothing lost, nothing applied twice, nothing parked (an event one side could not decode would be
   parked as malformed), every project granted.

One summary line gives the figures. The same databases (SQLite, as ``make up``) are opened by both
releases, so each release also starts on the other's schema.
"""

import subprocess
import sys
import time
from pathlib import Path

import eventlet
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.faults.harness import EXPECTED_TIMELINE, Clients, Driver, agrees, parked_count, settled, wait_until

from .release import checkout, previous_release, release_env, resolve

pytestmark = [pytest.mark.upgrade, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
FLOW = ["planning", "review", "approval"]
UPGRADED_FIRST = "review"  # the one service of the previous release in the first arrangement
PHASE_SECONDS = 20


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    commit, label = previous_release()
    full = resolve(commit)
    if full is None:
        pytest.skip(f"the previous release {commit} is not in this checkout's history (a shallow clone?)")
    return full, label, checkout(full, tmp_path_factory.mktemp("release"))


def migrations_config(service_dir):
    config = Config()
    config.set_main_option("script_location", str(service_dir / "migrations"))
    return config


class Rolling:
    """Starts and stops each service of the flow at the current tree or from the release."""

    def __init__(self, suite, tree):
        self.suite = suite
        self.tree = tree
        self.old_env = release_env(tree, suite.env)
        self.at = {}  # service -> "old" | "current"

    def start(self, name, which):
        if which == "old":
            self.migrate_back(name)
            command = [sys.executable, str(self.tree / "deploy" / "suite.py"), "up", name]
            subprocess.run(command, env=self.old_env, cwd=self.tree, check=True, stdout=subprocess.DEVNULL)
        else:
            self.suite.up(name)
        assert self.runs_from(name) == which
        self.at[name] = which

    def migrate_back(self, name):
        """Before the previous release starts, the current release's migrations take the database
        down to the previous release's head (README, "Rolling upgrades"): the old code would not
        know the newer revisions. A database already at that revision is left as it is; none yet is made
        at it."""
        old_head = ScriptDirectory.from_config(migrations_config(self.tree / "services" / name)).get_current_head()
        command = [sys.executable, "-m", "nxshared.migrate", str(ROOT / "services" / name), "--to", old_head]
        subprocess.run(command, env=self.suite.env, cwd=ROOT, check=True, capture_output=True)

    def stop(self, name):
        self.suite.down(name)
        self.at.pop(name, None)

    def runs_from(self, name):
        """Which tree the running process of ``name`` was started from (its command line)."""
        pid = int((self.suite.run_dir / f"{name}.pid").read_text())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
        from_release = str(self.tree) in argv[-2] and f"PYTHONPATH={self.old_env['PYTHONPATH']}" in environ
        return "old" if from_release else "current"


def test_one_service_of_the_previous_release_beside_the_others_and_the_reverse(release, suite, rabbit_config, capsys):
    commit, label, tree = release
    rolling = Rolling(suite, tree)
    for name in FLOW:
        rolling.start(name, "old" if name == UPGRADED_FIRST else "current")
    clients = Clients(rabbit_config["AMQP_URI"])
    driver = Driver(clients, interval=0.5)
    swaps = []
    try:
        driver.start()
        eventlet.sleep(PHASE_SECONDS)
        began = time.monotonic()
        for name, which in [(UPGRADED_FIRST, "current")] + [(n, "old") for n in FLOW if n != UPGRADED_FIRST]:
            rolling.stop(name)
            rolling.start(name, which)
            swaps.append(name)
        rolled = time.monotonic() - began
        assert rolling.at == {n: ("current" if n == UPGRADED_FIRST else "old") for n in FLOW}
        eventlet.sleep(PHASE_SECONDS)
        driver.stop_starting()
        driver.wait(timeout=240)

        stuck = [(p.index, p.project_id, p.stuck or "unfinished") for p in driver.projects if not p.finished]
        lost, duplicated = [], []
        for p in driver.projects:
            if p.project_id is None:
                continue
            timeline = wait_until(lambda p=p: settled(clients, p.project_id), 90, f"{p.project_id} to settle")
            types = sorted(e["event_type"] for e in timeline["events"])
            if any(types.count(event_type) > 1 for event_type in EXPECTED_TIMELINE):
                duplicated.append(p.project_id)
            if not set(EXPECTED_TIMELINE) <= set(types) or not agrees(clients, p):
                lost.append(p.project_id)
        parked = parked_count(rabbit_config["AMQP_URI"], FLOW)
        with capsys.disabled():
            print(
                f"\nrolling upgrade (previous release {commit[:7]} {label}): {UPGRADED_FIRST} old beside the others"
                f" current, then rolled ({', '.join(swaps)}) to the reverse in {rolled:.1f} s while projects flowed:"
                f" projects {len(driver.projects)}, finished {sum(p.finished for p in driver.projects)},"
                f" lost {len(lost)}, duplicated {len(duplicated)}, parked {parked}, stuck {len(stuck)},"
                f" driver retries {sum(p.retries for p in driver.projects)}"
            )
        assert not any(p.abandoned for p in driver.projects)
        assert stuck == []
        assert lost == []
        assert duplicated == []
        assert parked == 0
    finally:
        driver.stop_starting()
        clients.close()
