"""The names of the metrics the services export, collected from their own registries: the suite's
standard metrics (``nxshared.metrics.SuiteMetrics``), the outbox gauges, a public side's metrics and
the names in each installed service's business gauge function, as Prometheus
names them (a counter ``_total``, a histogram ``_bucket``, ``_sum``, ``_count``), with ``up``."""

import inspect
import re
from types import SimpleNamespace

from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from nxshared.db import Database
from nxshared.discovery import installed_services
from nxshared.metrics import SuiteMetrics
from nxshared.publicside import PublicMetrics

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
# PromQL words that are not metric names
PROMQL_WORDS = {
    "sum", "by", "rate", "increase", "and", "or", "unless", "offset", "histogram_quantile", "le", "max",
    "min", "avg", "count", "without", "on", "ignoring", "group_left", "group_right", "topk", "bottomk",
    "clamp_min", "irate", "delta", "abs", "vector", "label_replace", "bool", "time", "changes", "resets",
    "avg_over_time", "max_over_time", "min_over_time", "absent", "scalar", "sort_desc", "timestamp",
}  # fmt: skip


def _names(registry):
    found = set()
    for family in registry.collect():
        for suffix in SUFFIXES[family.type]:
            found.add(family.name + suffix)
    return found


def business_gauge_names():
    """The names each service's business gauges yield: read from the gauge function's code (a
    gauge that counts rows by year or status yields nothing on an empty database, and must still
    be known by name)."""
    names = set()
    for service in installed_services():
        read = service.load().gauges.read
        names |= set(re.findall(r'"(nx_[a-z0-9_]+)"', inspect.getsource(read)))
    return names


def _outbox_gauge_names(tmp_path):
    from nxshared.db import RELIABILITY_METADATA

    engine = create_engine(f"sqlite:///{tmp_path}/outbox.db")
    RELIABILITY_METADATA.create_all(engine)
    names = {name for name, _help, _labels, _value in Database._outbox_gauges(SimpleNamespace(engine=engine))}
    engine.dispose()
    return names


def exported_metric_names(tmp_path):
    registry = CollectorRegistry()
    SuiteMetrics(registry)
    names = _names(registry) | _names(PublicMetrics().registry) | {"up"}
    return names | _outbox_gauge_names(tmp_path) | business_gauge_names()


def metric_names_in(expr):
    """The metric names a PromQL expression reads (identifiers that are not functions, keywords,
    label names inside ``{}``/``by ()``, durations or strings)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]", w)}
