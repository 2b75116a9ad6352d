"""No Docker engine runs here, so docker-compose.yml and the Dockerfiles are checked by structure:
every service is built from its own Dockerfile, copies paths that exist, exposes the port its
config serves on, and gets its own PostgreSQL database."""

import re
from pathlib import Path

import pytest
import yaml

from nxshared.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/config.yaml"))
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_service_and_the_infrastructure():
    assert set(COMPOSE["services"]) == {"rabbitmq", "postgres", *SERVICES}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_builds_from_its_own_dockerfile(name):
    entry = COMPOSE["services"][name]
    assert entry["build"] == {"context": ".", "dockerfile": f"services/{name}/Dockerfile"}
    dockerfile = (ROOT / "services" / name / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / source).exists(), f"{name}'s Dockerfile copies missing {source}"
    port = load_settings(ROOT / "services" / name, environ={})["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1]
    assert f"EXPOSE {port}" in dockerfile
    assert entry["ports"] == [f"{port}:{port}"]
    assert 'CMD ["python", "-m", "nxshared.runner", "."]' in dockerfile
    assert f"WORKDIR /app/services/{name}" in dockerfile


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_gets_its_own_database(name):
    env = COMPOSE["services"][name]["environment"]
    url = env["NX_DATABASE_URL"].replace("{service}", name)
    assert url.endswith(f"/nx_{name}")
    assert f"CREATE DATABASE nx_{name};" in (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert env["AMQP_URI"].startswith("amqp://") and "@rabbitmq:" in env["AMQP_URI"]
