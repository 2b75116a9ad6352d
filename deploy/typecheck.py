"""Type-check the suite's library and every installed service's pure part (domain, use cases,
typed events) with mypy; the files and search path come from the installed services, so a new
service is checked without editing any configuration. Run by ``make lint`` and ``make test``."""

import os
import subprocess
import sys
from pathlib import Path

from nxshared.discovery import installed_services

ROOT = Path(__file__).resolve().parents[1]
PURE_PARTS = ("domain", "domain.py", "usecases.py", "events.py")


def targets():
    paths, search = [ROOT / "shared" / "nxshared"], [ROOT / "shared"]
    for service in installed_services():
        package = service.directory / service.target.split(".", 1)[0]
        search.append(service.directory)
        paths.extend(package / part for part in PURE_PARTS if (package / part).exists())
    return paths, search


def main():
    paths, search = targets()
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, search))}
    mypy = Path(sys.executable).with_name("mypy")
    return subprocess.call([str(mypy), "--config-file", str(ROOT / "pyproject.toml"), *map(str, paths)], env=env)


if __name__ == "__main__":
    sys.exit(main())
