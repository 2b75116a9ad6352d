"""Root conftest. eventlet must patch the standard library before anything else is imported,
or container tests hang; psycopg 3 must be told to wait the eventlet-friendly way."""

import nxshared  # noqa: F401,I001  (silences eventlet's import-time warning)
import eventlet

eventlet.monkey_patch()  # noqa: E402

import os  # noqa: E402

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

pytest_plugins = ["nxshared.testing"]
