"""Settings: a service's ``config.yaml``, each key overridable from the environment.

``NX_<KEY>`` overrides a key for every service started from that environment, and
``NX_<SERVICE>_<KEY>`` for one (``NX_PLANNING_OPS_ADDRESS``). ``AMQP_URI`` is also read bare
(the contract names it). ``DATABASE_URL`` may contain ``{service}``, so that one
``NX_DATABASE_URL=postgresql://…/nx_{service}`` gives every service its own database.
"""

import os
from pathlib import Path

import yaml
from nameko.extensions import DependencyProvider

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(raw, default):
    """Give an environment string the type of the setting it overrides."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ValueError(f"expected a boolean, got {raw!r}")
        return lowered in _TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (list, dict)):
        return yaml.safe_load(raw)
    return raw


def apply_overrides(config, environ=None):
    """``NX_<SERVICE>_<KEY>`` beats ``NX_<KEY>`` beats the file (``AMQP_URI`` is read bare too)."""
    environ = os.environ if environ is None else environ
    config = dict(config)
    service = str(config.get("SERVICE_NAME", "")).upper()
    for key, default in list(config.items()):
        names = [f"NX_{service}_{key}", f"NX_{key}"] + (["AMQP_URI"] if key == "AMQP_URI" else [])
        name = next((n for n in names if n in environ), None)
        if name is None:
            continue
        try:
            config[key] = _coerce(environ[name], default)
        except ValueError as exc:
            raise SystemExit(f"setting {name}: {exc}") from None
    if "DATABASE_URL" in config:
        config["DATABASE_URL"] = str(config["DATABASE_URL"]).replace("{service}", str(config.get("SERVICE_NAME", "")))
    return config


def ops_address(config):
    """Where the service serves ``/metrics`` and ``/health``: ``OPS_ADDRESS``, never the public
    network unless an operator says so (the pod network in containers). nameko's web server binds
    ``WEB_SERVER_ADDRESS``, which follows it. A service that names only a ``WEB_SERVER_ADDRESS`` (as
    every one did before ops addresses) keeps its port, on loopback."""
    config = dict(config)
    if "OPS_ADDRESS" not in config and "WEB_SERVER_ADDRESS" in config:
        config["OPS_ADDRESS"] = f"127.0.0.1:{str(config['WEB_SERVER_ADDRESS']).rsplit(':', 1)[-1]}"
    if "OPS_ADDRESS" in config:
        config["WEB_SERVER_ADDRESS"] = config["OPS_ADDRESS"]
    return config


def load_settings(service_dir, environ=None):
    """The config of the service in ``service_dir``, with environment overrides applied."""
    path = Path(service_dir) / "config.yaml"
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh) or {}
    config = ops_address(apply_overrides(config, environ))
    config["SERVICE_DIR"] = str(Path(service_dir).resolve())
    return config


class Rules(DependencyProvider):
    """A service's rule settings, built once from its config by ``factory(config)`` so that a bad
    setting stops the service at start, not at the first call."""

    def __init__(self, factory):
        self.factory = factory

    def setup(self):
        self.rules = self.factory(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.rules
