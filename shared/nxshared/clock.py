"""An injectable clock: tests and operators set "today" with the ``TODAY`` setting
(``NX_TODAY=2026-12-15``); timestamps stay real so event order is kept."""

import datetime as dt

from nameko.extensions import DependencyProvider


class Clock:
    def __init__(self, today=None):
        self._today = dt.date.fromisoformat(str(today)) if today else None

    def today(self):
        return self._today or dt.date.today()

    @staticmethod
    def now():
        return dt.datetime.now(dt.UTC)


class ClockProvider(DependencyProvider):
    def setup(self):
        self.clock = Clock(self.container.config.get("TODAY"))

    def get_dependency(self, worker_ctx):
        return self.clock
