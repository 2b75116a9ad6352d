"""The suite's local secrets: never shipped, generated on first use, readable only by their owner.

The broker passwords of the parties (``nxshared.broker_access``) live in the local secrets file
(``NX_SECRETS_FILE``, default ``.data/secrets.json``), which the first launcher or ``nx`` to need one
creates with random values and mode 0600. No token secret is kept anywhere: tokens are signed by the
identity platform's private key and verified with its public keys (``nxshared.keys``,
``nxshared.issuer``).
"""

import json
import os
import secrets as random
import time
from pathlib import Path

DEFAULT_SECRETS_FILE = ".data/secrets.json"


class SecretError(ValueError):
    """A secrets file that cannot be read; the message says what to do."""


def secrets_file(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("NX_SECRETS_FILE") or DEFAULT_SECRETS_FILE)


def local_secret(name: str, path: Path) -> str:
    """The secret ``name`` of the local file, generated if missing. The file is created once,
    atomically (``O_EXCL``, mode 0600), so services starting together all read the same value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = _read(path)
        if name not in stored:  # a file written before this secret existed: add it
            stored[name] = random.token_urlsafe(48)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
                json.dump(stored, fh)
            os.replace(tmp, path)
        return _read(path)[name]
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({name: random.token_urlsafe(48)}, fh)
    return _read(path)[name]


def _read(path: Path) -> dict:
    for _ in range(50):  # another process may have created the file and not yet written it
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError:
            time.sleep(0.02)
    raise SecretError(f"{path} is not a secrets file (JSON); remove it to have it generated again")


def stored_names(path: Path) -> list[str]:
    """The names of the secrets the local file holds (none when there is no file)."""
    return list(_read(path))


def broker_password(user: str, path: Path) -> str:
    """The broker password of ``user`` (a party of ``nxshared.broker_access``), generated once."""
    return local_secret(f"broker_password:{user}", path)
