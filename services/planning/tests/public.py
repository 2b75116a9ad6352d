"""Planning's public pages as its public side serves them (``nxshared.publicside`` with
``planning.public.PAGES``), on a test container's database, read-only, without a cache."""

from werkzeug.test import Client

from nxshared.publicside import PublicApp
from planning.public import PAGES


def public_get(container, path, params=None, headers=None):
    app = PublicApp(PAGES, container.config["DATABASE_URL"], {"PUBLIC_CACHE_SECONDS": 0})
    try:
        return Client(app).get(path, query_string=params, headers=headers)
    finally:
        app.engine.dispose()
