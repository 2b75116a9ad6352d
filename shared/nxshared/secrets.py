"""The suite's secrets: never shipped, generated on first start, readable only by their owner.

``AUTH_SECRET`` (the HS256 key of the contract's tokens) comes from the environment
(``NX_AUTH_SECRET``) or, when unset, from the local secrets file (``NX_SECRETS_FILE``, default
``.data/secrets.json``), which the first service, launcher or ``nx`` to need it creates with a
random value and mode 0600. A secret shorter than 32 bytes is refused, and so is the sample value
that older copies of the repository shipped, unless ``DEV_MODE`` is on.
"""

import json
import os
import secrets as random
import time
from pathlib import Path

MIN_SECRET_BYTES = 32
SAMPLE_SECRETS = frozenset({"change-me-in-production-at-least-32-bytes"})
DEFAULT_SECRETS_FILE = ".data/secrets.json"


class SecretError(ValueError):
    """A secret that must not be used; the message says what to do."""


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


def check_secret(secret: str, dev_mode: bool = False) -> str:
    """Refuses a short secret always, and the repository's sample outside development mode."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise SecretError(f"AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes; unset it to have one generated")
    if secret in SAMPLE_SECRETS and not dev_mode:
        raise SecretError("AUTH_SECRET is the repository's sample value: set NX_AUTH_SECRET (or NX_DEV_MODE=true)")
    return secret


def auth_secret(configured: str | None, dev_mode: bool = False, environ=None) -> str:
    """The token secret to use: the configured one, else the local file's (generated if missing)."""
    secret = configured or local_secret("auth_secret", secrets_file(environ))
    return check_secret(secret, dev_mode)


def stored_names(path: Path) -> list[str]:
    """The names of the secrets the local file holds (none when there is no file)."""
    return list(_read(path))


def broker_password(user: str, path: Path) -> str:
    """The broker password of ``user`` (a party of ``nxshared.broker_access``), generated once."""
    return local_secret(f"broker_password:{user}", path)
