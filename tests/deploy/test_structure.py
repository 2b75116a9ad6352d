"""No Docker engine runs here, so docker-compose.yml and the Dockerfiles are checked by structure:
every service is built from its own Dockerfile, copies paths that exist, exposes its ops port to
the compose network only, and gets its own PostgreSQL database; a service with public pages has a
public-side container, the only one whose port is published."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nxshared.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/config.yaml"))
PUBLIC = [n for n in SERVICES if load_settings(ROOT / "services" / n, environ={}).get("PUBLIC_APP")]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


MONITORING = {"prometheus", "alertmanager", "grafana"}


def test_compose_runs_every_service_its_public_side_and_the_infrastructure():
    assert set(COMPOSE["services"]) == {
        "rabbitmq",
        "postgres",
        *MONITORING,
        *SERVICES,
        *(f"{n}-public" for n in PUBLIC),
    }


def test_compose_monitors_the_suite_with_the_generated_configuration_and_dashboards():
    """Prometheus reads deploy/prometheus (its compose configuration scrapes each process by its
    container's name), Grafana the provisioning and dashboards of deploy/grafana; their pages are
    published on the host's loopback only."""
    prometheus, grafana = COMPOSE["services"]["prometheus"], COMPOSE["services"]["grafana"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus-compose.yml" in prometheus["command"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    alertmanager = COMPOSE["services"]["alertmanager"]
    assert "./deploy/prometheus/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in alertmanager["volumes"]
    for name in MONITORING:
        assert all(p.startswith("127.0.0.1:") for p in COMPOSE["services"][name]["ports"]), name
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus-compose.yml").read_text())
    [job] = config["scrape_configs"]
    scraped = {target for c in job["static_configs"] for target in c["targets"]}
    expected = set()
    for name in SERVICES:
        settings = load_settings(ROOT / "services" / name, environ={})
        expected.add(f"{name}:{settings['OPS_ADDRESS'].rsplit(':', 1)[1]}")
        if name in PUBLIC:
            expected.add(f"{name}-public:{settings['PUBLIC_OPS_ADDRESS'].rsplit(':', 1)[1]}")
    assert scraped == expected and all(target.split(":")[0] in COMPOSE["services"] for target in scraped)
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    datasource = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "nx.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_builds_from_its_own_dockerfile(name):
    entry = COMPOSE["services"][name]
    assert entry["build"] == {"context": ".", "dockerfile": f"services/{name}/Dockerfile"}
    dockerfile = (ROOT / "services" / name / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / source).exists(), f"{name}'s Dockerfile copies missing {source}"
    assert "pip install --no-cache-dir --no-deps /app/shared /app/services/*/" in dockerfile
    port = load_settings(ROOT / "services" / name, environ={})["OPS_ADDRESS"].rsplit(":", 1)[1]
    assert re.search(rf"^EXPOSE .*\b{port}\b", dockerfile, re.M)
    # ops pages on the compose network, never published on the host
    assert "ports" not in entry and entry["expose"] == [port]
    assert entry["environment"][f"NX_{name.upper()}_OPS_ADDRESS"] == f"0.0.0.0:{port}"
    assert 'CMD ["python", "-m", "nxshared.runner", "."]' in dockerfile
    assert f"WORKDIR /app/services/{name}" in dockerfile


@pytest.mark.parametrize("name", PUBLIC)
def test_a_public_side_runs_apart_on_the_only_published_port(name):
    settings = load_settings(ROOT / "services" / name, environ={})
    public, ops = (settings[k].rsplit(":", 1)[1] for k in ("PUBLIC_ADDRESS", "PUBLIC_OPS_ADDRESS"))
    entry = COMPOSE["services"][f"{name}-public"]
    assert entry["build"] == COMPOSE["services"][name]["build"]
    assert entry["command"] == ["python", "-m", "nxshared.public_runner", "."]
    assert entry["ports"] == [f"{public}:{public}"] and entry["expose"] == [ops]
    env = entry["environment"]
    assert env[f"NX_{name.upper()}_PUBLIC_ADDRESS"] == f"0.0.0.0:{public}"
    assert env[f"NX_{name.upper()}_PUBLIC_OPS_ADDRESS"] == f"0.0.0.0:{ops}"
    assert env["NX_DATABASE_URL"].endswith(f"/nx_{name}") and "AMQP_URI" not in env  # no broker user
    assert "PUBLIC_OPS_ADDRESS" in " ".join(entry["healthcheck"]["test"])
    published = [p for s in COMPOSE["services"].values() for p in s.get("ports", [])]
    assert not [p for p in published if p.split(":")[-1] == ops]


def created_databases(services_dir):
    """What deploy/postgres-init.sh creates for a folder of services (psql replaced by echo)."""
    script = ROOT / "deploy" / "postgres-init.sh"
    env = {**os.environ, "NX_SERVICES_DIR": str(services_dir), "PSQL": "echo"}
    out = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, check=True).stdout
    return re.findall(r'CREATE DATABASE "(\w+)"', out)


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_gets_its_own_database(name):
    env = COMPOSE["services"][name]["environment"]
    url = env["NX_DATABASE_URL"].replace("{service}", name)
    assert url.endswith(f"/nx_{name}")
    # its own broker user in the suite's vhost, its password from the environment (never guest)
    assert re.fullmatch(
        rf"amqp://nx-{name}:\$\{{NX_BROKER_PASSWORD_{name.upper()}:\?[^}}]+\}}@rabbitmq:5672/nx", env["AMQP_URI"]
    )


def test_the_broker_loads_the_suites_users_and_permissions():
    rabbit = COMPOSE["services"]["rabbitmq"]
    assert "load_definitions" in rabbit["environment"]["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    assert "./.data/rabbitmq-definitions.json:/etc/rabbitmq/nx-definitions.json:ro" in rabbit["volumes"]
    assert "guest" not in (ROOT / "docker-compose.yml").read_text()


def test_the_database_init_creates_one_database_per_service_folder(tmp_path):
    assert created_databases(ROOT / "services") == [f"nx_{name}" for name in SERVICES]
    (tmp_path / "newcomer").mkdir()
    (tmp_path / "newcomer" / "config.yaml").write_text("SERVICE_NAME: newcomer\n")
    assert created_databases(tmp_path) == ["nx_newcomer"]
    volumes = COMPOSE["services"]["postgres"]["volumes"]
    assert "./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/init.sh:ro" in volumes
    assert "./services:/nx-services:ro" in volumes


def test_no_service_holds_or_is_given_a_token_secret():
    """Token v2 (issue 26): the services verify with the identity platform's public keys only."""
    shipped = [ROOT / "docker-compose.yml", *ROOT.glob("services/*/Dockerfile"), *ROOT.glob("services/*/config.yaml")]
    shipped += list(ROOT.glob("deploy/**/*.yaml")) + list(ROOT.glob("deploy/**/*.yml"))
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert "AUTH_SECRET" not in text and "HS256" not in text, path
    for name in SERVICES:
        service = COMPOSE["services"][name]
        assert service["environment"]["NX_AUTH_JWKS_FILE"] == "/run/nx/jwks.json"
        assert "./.data/jwks.json:/run/nx/jwks.json:ro" in service["volumes"]


def test_the_keycloak_realm_puts_the_org_claim_in_every_clients_tokens():
    import json

    realm = json.loads((ROOT / "deploy" / "keycloak" / "nanxian-realm.json").read_text(encoding="utf-8"))
    scopes = {scope["name"]: scope for scope in realm["clientScopes"]}
    for client in realm["clients"]:
        mappers = [m for s in client["defaultClientScopes"] for m in scopes[s]["protocolMappers"]]
        assert any(m["config"].get("claim.name") == "org" for m in mappers), client["clientId"]
        assert client["attributes"]["access.token.signed.response.alg"] in ("EdDSA", "ES256", "RS256")
    [provider] = realm["components"]["org.keycloak.keys.KeyProvider"]
    assert provider["providerId"] == "eddsa-generated"


def test_the_readme_port_table_is_the_settings():
    """README *Public and ops addresses*: one row per process address, as the settings say."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Public and ops addresses", 1)[1].split("| process |", 1)[1].split("\n\n", 1)[0]
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]) for line in section.splitlines()[2:]}
    expected = set()
    for name in SERVICES:
        settings = load_settings(ROOT / "services" / name, environ={})
        expected.add(
            (
                f"`{name}`",
                f"`{settings['OPS_ADDRESS']}` (`OPS_ADDRESS`) [`0.0.0.0:{settings['OPS_ADDRESS'].rsplit(':', 1)[1]}`, compose network only]",
            )
        )
        if name in PUBLIC:
            ops = settings["PUBLIC_OPS_ADDRESS"]
            expected.add(
                (
                    f"`{name}-public`",
                    f"`{ops}` (`PUBLIC_OPS_ADDRESS`) [`0.0.0.0:{ops.rsplit(':', 1)[1]}`, compose network only]",
                )
            )
            public = settings["PUBLIC_ADDRESS"]
            expected.add(
                (
                    f"`{name}-public`",
                    f"`{public}` (`PUBLIC_ADDRESS`): `http://127.0.0.1:{public.rsplit(':', 1)[1]}`, as before",
                )
            )
    assert rows == expected


def test_the_kubernetes_manifests_are_current_and_probe_readiness_and_liveness_apart():
    check = subprocess.run([sys.executable, str(ROOT / "deploy" / "k8s_manifests.py"), "--check"], capture_output=True)
    assert check.returncode == 0, check.stdout
    for name in SERVICES:
        settings = load_settings(ROOT / "services" / name, environ={})
        docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / name / f"{name}.yaml").read_text(encoding="utf-8")))
        deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
        ops = {name: settings["OPS_ADDRESS"]}
        if name in PUBLIC:
            ops[f"{name}-public"] = settings["PUBLIC_OPS_ADDRESS"]
        assert set(deployments) == set(ops)
        for app, address in ops.items():
            [container] = deployments[app]["spec"]["template"]["spec"]["containers"]
            port = int(address.rsplit(":", 1)[1])
            assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": port}
            assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": port}
        services = [d for d in docs if d["kind"] == "Service"]
        assert all(s["spec"]["type"] == "ClusterIP" for s in services)
        exposed = [p["port"] for s in services for p in s["spec"]["ports"] if p["name"] == "public"]
        assert exposed == ([int(settings["PUBLIC_ADDRESS"].rsplit(":", 1)[1])] if name in PUBLIC else [])
