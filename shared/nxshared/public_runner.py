"""Start a service's public side: ``python -m nxshared.public_runner services/planning``
(``nxshared.publicside``). eventlet patches the standard library before anything else is imported."""

import nxshared  # noqa: F401,I001  (silences eventlet's import-time warning)
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import os  # noqa: E402

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

from nxshared.publicside import main  # noqa: E402

if __name__ == "__main__":
    main()
