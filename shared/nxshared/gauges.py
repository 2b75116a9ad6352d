"""Business gauges operators watch (e.g. reviews open by route), read from the service's own
database at scrape time, so they are right after a restart and never drift from the tables."""

import logging

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from nxshared.clock import Clock
from nxshared.db import make_engine
from nxshared.metrics import GaugeCollector, registry_for

log = logging.getLogger(__name__)


class BusinessGauges(DependencyProvider):
    """``read(session, clock)`` returns ``[(name, help, {labels}, value), …]``; ``clock`` is the
    suite's (``TODAY``): a gauge of what is due counts as of the day the services' rules use."""

    def __init__(self, read):
        self.read = read

    def setup(self):
        self.engine = make_engine(self.container.config["DATABASE_URL"])
        self.Session = sessionmaker(self.engine)
        self.clock = Clock(self.container.config.get("TODAY"))
        registry_for(self.container).registry.register(GaugeCollector(self._collect))

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return None

    def _collect(self):
        try:
            with self.Session() as session:
                return list(self.read(session, self.clock))
        except Exception:  # a scrape must not fail because the database is down; /health says so
            log.warning("business gauges unavailable", exc_info=True)
            return []
