"""A service's public side: its public pages in a process of their own, apart from the bureau's.

    python -m nxshared.public_runner services/planning

A service that has public pages names them in its ``config.yaml`` (``PUBLIC_APP:
<module>:<PublicPages>``); the launcher (``deploy/suite.py``) then starts, supervises and shows
this process beside the service (``<name>-public``), compose and the manifests run it as a
container of its own, and it scales by replicas: it keeps nothing but a cache.

What it guarantees, whatever the pages are:

- **It cannot slow the bureau.** It reads the service's database through an engine of its own that
  cannot write (SQLite ``mode=ro``; PostgreSQL ``default_transaction_read_only`` and a statement
  timeout) and shares no worker, connection or event loop with the service. It runs at a lower CPU
  priority (``PUBLIC_NICE``), so on a shared host the bureau's processes are served first.
- **A reverse proxy or CDN carries most of the load.** Each answer has ``Cache-Control: public,
  max-age=PUBLIC_MAX_AGE_SECONDS`` and an ``ETag`` (a hash of its body); a request whose
  ``If-None-Match`` names it gets ``304`` and no body. A page is read from the database at most
  once per ``PUBLIC_CACHE_SECONDS`` (micro-cache, at most ``PUBLIC_CACHE_ENTRIES`` pages; concurrent
  misses of one page wait for a single read).
- **It sheds, it does not queue.** At most ``PUBLIC_MAX_READS`` pages are read from the database at
  once; a request beyond that is answered ``503`` with ``Retry-After`` at once, and at most
  ``PUBLIC_MAX_CONNECTIONS`` connections are served at once (further ones wait in the listen backlog).
- **Bad input costs nothing.** A method other than GET/HEAD (405), an over-long path (414), query
  string (414) or header set (431), an unknown path (404), a bad query (400): a short JSON body,
  nothing logged above debug.
- **It rides out a lost database.** Reads that fail are ``503`` + ``Retry-After``; the database is
  checked once a second, ``/health`` says what failed meanwhile, and the pool reconnects by itself.

``/health`` (readiness), ``/health/live`` and ``/metrics`` are served on the ops address
(``PUBLIC_OPS_ADDRESS``), never on the public one.
"""

import nxshared  # noqa: F401,I001  (silences eventlet's import-time warning)
import eventlet  # noqa: I001

import hashlib
import importlib
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventlet.event import Event
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from nxshared.core.errors import ValidationError
from nxshared.db import normalize_url

log = logging.getLogger("nxshared.publicside")

MAX_PATH = 256  # bytes of the path
MAX_QUERY = 512  # bytes of the query string
MAX_HEADERS = 8192  # bytes of all request headers together
MAX_HEADER_COUNT = 64
METHODS = ("GET", "HEAD")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

Page = Callable[..., Any]


JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Body:
    """A page's answer other than JSON: its bytes, their content type and its status (an HTML page,
    a spreadsheet, a page of its own for "not found"). Cached, tagged and answered as JSON is."""

    content: bytes
    content_type: str
    status: int = 200


@dataclass(frozen=True)
class PublicPages:
    """What a service discloses: ``routes`` maps a werkzeug rule (``/public/projects/<project_id>``)
    to a page function ``page(repo, args, **path_values)`` that returns the JSON body, a ``Body``
    (any other content type, or a status of its own), or None when there is no such thing (404),
    and raises ``ValidationError`` for a bad query (400); ``repository(session)`` builds what the
    pages read through. With ``site``, every page also takes ``site=site(config)``, built once
    from the process's settings (e.g. the address the public reaches the pages at)."""

    routes: Mapping[str, Page]
    repository: Callable[[Session], Any]
    not_found: str = "不存在"  # the message of a 404 for a page that returned None
    site: Callable[[Mapping[str, Any]], Any] | None = None


def read_only_engine(url: str, statement_timeout_ms: int = 5000):
    """An engine that cannot write the service's database: SQLite opened ``mode=ro``, PostgreSQL
    sessions whose every transaction is read-only (and bounded by a statement timeout)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if not path or path == ":memory:":
            raise ValueError("the public side needs the service's database file, not an in-memory one")
        uri = f"sqlite:///file:{Path(path).resolve()}?mode=ro&uri=true"
        return create_engine(uri, connect_args={"timeout": 5, "check_same_thread": False})
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    options = f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(
        url,
        connect_args={"options": options, "connect_timeout": 5},
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
        pool_size=4,
        max_overflow=4,
        pool_timeout=5,
    )


@dataclass
class _Cached:
    body: bytes
    etag: str
    status: int
    at: float
    content_type: str = JSON_TYPE


@dataclass
class Health:
    """The last database check, made by one green thread once a second (``PublicApp.check``)."""

    database: str = "error: not checked yet"
    checked_at: float | None = None
    stale_after: float = 5.0

    def record(self, result: str) -> None:
        if result != self.database and self.checked_at is not None:
            (log.info if result == "ok" else log.warning)("public side: database %s", result)
        self.database, self.checked_at = result, time.monotonic()

    def database_state(self) -> str:
        if self.checked_at is not None and time.monotonic() - self.checked_at > self.stale_after:
            return f"error: no answer for {time.monotonic() - self.checked_at:.0f} s"
        return self.database


class PublicMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("nx_public_requests", "Public requests by status", ["status"], registry=self.registry)
        self.cache = Counter(
            "nx_public_cache", "Public pages answered from memory (hit) or read (miss)", ["result"],
            registry=self.registry,
        )  # fmt: skip
        self.read_latency = Histogram(
            "nx_public_read_seconds", "Time to read and render a public page", registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )  # fmt: skip


def _short(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
    body = _encoded({"error": code, "message": message})
    return status, [("Content-Type", "application/json"), *(headers or [])], body


class PublicApp:
    """The WSGI application of a service's public side (see the module's docstring)."""

    def __init__(self, pages: PublicPages, database_url: str, config: Mapping[str, Any] | None = None) -> None:
        config = config or {}
        self.pages = pages
        self.url_map = Map([Rule(path, endpoint=page, methods=list(METHODS)) for path, page in pages.routes.items()])
        self.engine = read_only_engine(database_url, int(config.get("PUBLIC_STATEMENT_TIMEOUT_MS", 5000)))
        self.Session = sessionmaker(self.engine)
        self.max_age = int(config.get("PUBLIC_MAX_AGE_SECONDS", 10))
        self.cache_seconds = float(config.get("PUBLIC_CACHE_SECONDS", 1.0))
        self.cache_entries = int(config.get("PUBLIC_CACHE_ENTRIES", 2048))
        self.max_reads = int(config.get("PUBLIC_MAX_READS", 8))
        self.retry_after = str(int(config.get("PUBLIC_RETRY_AFTER_SECONDS", 1)))
        self.health = Health(stale_after=float(config.get("HEALTH_STALE_SECONDS", 5.0)))
        self.site = {} if pages.site is None else {"site": pages.site(config)}
        self.metrics = PublicMetrics()
        self._cache: OrderedDict[tuple[str, str], _Cached] = OrderedDict()
        self._reading: dict[tuple[str, str], Event] = {}
        self._reads = 0

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        status, headers, body = self.respond(environ)
        self.metrics.requests.labels(str(status)).inc()
        if environ.get("REQUEST_METHOD") == "HEAD" or status == 304:
            body = b""
        start_response(f"{status} {_REASONS.get(status, '')}", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def respond(self, environ) -> tuple[int, list[tuple[str, str]], bytes]:
        refused = self._screen(environ)
        if refused is not None:
            return refused
        try:
            page, values = self.url_map.bind_to_environ(environ).match()
        except MethodNotAllowed:
            return _short(405, "METHOD_NOT_ALLOWED", "只支持 GET、HEAD", [("Allow", ", ".join(METHODS))])
        except RequestRedirect:  # a page's address without its closing slash (``/portal``)
            query = environ.get("QUERY_STRING", "")
            location = environ.get("PATH_INFO", "") + "/" + (f"?{query}" if query else "")
            return 308, [("Location", location), ("Content-Type", JSON_TYPE)], b""
        except NotFound:
            return _short(404, "NOT_FOUND", "页面不存在")
        key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        cached = self._fresh(key)
        if cached is None:
            cached = self._read_once(key, page, values, environ)
            if not isinstance(cached, _Cached):
                return cached  # shed or failed: never cached
        else:
            self.metrics.cache.labels("hit").inc()
        headers = [
            ("Content-Type", cached.content_type),
            ("Cache-Control", f"public, max-age={self.max_age}"),
            ("ETag", cached.etag),
        ]
        if cached.status == 200 and cached.etag in _etags(environ.get("HTTP_IF_NONE_MATCH", "")):
            return 304, headers, b""
        return cached.status, headers, cached.body

    def _screen(self, environ):
        """Refused before any routing: what no page of ours can be."""
        if environ.get("REQUEST_METHOD") not in METHODS:
            return _short(405, "METHOD_NOT_ALLOWED", "只支持 GET、HEAD", [("Allow", ", ".join(METHODS))])
        if len(environ.get("PATH_INFO", "").encode("utf-8", "surrogateescape")) > MAX_PATH:
            return _short(414, "URI_TOO_LONG", "地址过长")
        if len(environ.get("QUERY_STRING", "")) > MAX_QUERY:
            return _short(414, "URI_TOO_LONG", "查询参数过长")
        headers = [(k, v) for k, v in environ.items() if k.startswith("HTTP_")]
        if len(headers) > MAX_HEADER_COUNT or sum(len(k) + len(str(v)) for k, v in headers) > MAX_HEADERS:
            return _short(431, "HEADERS_TOO_LARGE", "请求头过大")
        return None

    # --- reading, once per page per PUBLIC_CACHE_SECONDS --------------------------------------

    def _fresh(self, key):
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached.at < self.cache_seconds:
            return cached
        return None

    def _read_once(self, key, page, values, environ):
        """Read the page unless another request is reading it already (then wait for that one)."""
        waiting = self._reading.get(key)
        if waiting is not None:  # None: that read was cut short (its green thread killed)
            return waiting.wait() or _short(503, "UNAVAILABLE", "请稍后再试", [("Retry-After", self.retry_after)])
        if self._reads >= self.max_reads:
            return _short(503, "BUSY", "访问量过大，请稍后再试", [("Retry-After", self.retry_after)])
        done = self._reading[key] = Event()
        self._reads += 1
        result = None
        try:
            result = self._read(key, page, values, environ)
        finally:
            self._reads -= 1
            del self._reading[key]
            done.send(result)
        return result

    def _read(self, key, page, values, environ):
        self.metrics.cache.labels("miss").inc()
        started = time.perf_counter()
        try:
            args = _query(environ)
            with self.Session() as session:
                body = page(self.pages.repository(session), args, **self.site, **values)
        except ValidationError as exc:
            return _short(400, exc.code, exc.message)
        except (DBAPIError, SQLAlchemyError) as exc:
            self.health.record(f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return _short(503, "UNAVAILABLE", "暂时无法读取，请稍后再试", [("Retry-After", self.retry_after)])
        except Exception:  # a fault of ours, not of the request: said once, with its incident
            incident = uuid.uuid4().hex[:12]
            log.exception("public page %s failed (incident %s)", key[0][:MAX_PATH], incident)
            return _short(500, "INTERNAL_ERROR", f"内部错误（{incident}）")
        finally:
            self.metrics.read_latency.observe(time.perf_counter() - started)
        if body is None:
            body = Body(_encoded({"error": "NOT_FOUND", "message": self.pages.not_found}), JSON_TYPE, 404)
        elif not isinstance(body, Body):
            body = Body(_encoded(body), JSON_TYPE)
        etag = f'"{hashlib.blake2b(body.content, digest_size=12).hexdigest()}"'
        cached = _Cached(body.content, etag, body.status, time.monotonic(), body.content_type)
        if self.cache_seconds > 0:
            self._cache[key] = cached
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)
        return cached

    # --- health ---------------------------------------------------------------------------------

    def check(self) -> None:
        """One database check (``SELECT 1`` on the read-only engine), recorded for ``/health``."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            self.health.record("ok")
        except Exception as exc:  # health reports any failure, it does not raise
            self.health.record(f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")

    def check_forever(self, interval: float = 1.0) -> None:
        while True:
            self.check()
            eventlet.sleep(interval)


def _encoded(body: Any) -> bytes:
    """Compact JSON whose ``<``, ``>`` and ``&`` are escaped (``\\u003c``…): what a query echoed into
    a message or a project's name carries can never read as markup, whatever a client sniffs."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def _query(environ) -> dict[str, str]:
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, max_num_fields=16)
    except ValueError:  # more fields than any page takes
        raise ValidationError("INVALID_INPUT", "查询参数过多") from None
    return dict(pairs)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")[:16] if tag.strip()}


_REASONS = {
    200: "OK",
    304: "Not Modified",
    308: "Permanent Redirect",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class OpsApp:
    """``/health``, ``/health/live`` and ``/metrics`` of the public side, on its ops address."""

    def __init__(self, app: PublicApp) -> None:
        self.app = app
        self.started = time.monotonic()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, status, kind = generate_latest(self.app.metrics.registry), 200, CONTENT_TYPE_LATEST
        elif path in ("/health", "/health/live"):
            database = self.app.health.database_state()
            ready = database == "ok"
            live = path == "/health/live"
            payload = {"status": "ok" if (ready or live) else "unavailable", "database": database}
            body, status, kind = json.dumps(payload).encode(), 200 if (ready or live) else 503, "application/json"
        else:
            body, status, kind = b'{"error": "NOT_FOUND"}', 404, "application/json"
        start_response(
            f"{status} {_REASONS.get(status, '')}", [("Content-Type", kind), ("Content-Length", str(len(body)))]
        )
        return [body]


# --- the process ----------------------------------------------------------------------------------


def load_pages(target: str) -> PublicPages:
    module_name, _, attribute = target.partition(":")
    pages = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(pages, PublicPages):
        raise SystemExit(f"PUBLIC_APP {target} is not a PublicPages")
    return pages


def _listen(address: str, backlog: int):
    host, _, port = address.rpartition(":")
    return eventlet.listen((host or "0.0.0.0", int(port)), backlog=backlog)


def serve(config: Mapping[str, Any]) -> None:
    """Serve the public pages on ``PUBLIC_ADDRESS`` and the ops pages on ``PUBLIC_OPS_ADDRESS``
    until SIGTERM."""
    from eventlet import wsgi

    app = PublicApp(load_pages(config["PUBLIC_APP"]), config["DATABASE_URL"], config)
    public_sock = _listen(config["PUBLIC_ADDRESS"], int(config.get("PUBLIC_BACKLOG", 128)))
    ops_sock = _listen(config["PUBLIC_OPS_ADDRESS"], 16)
    quiet = logging.getLogger("nxshared.publicside.wsgi")
    quiet.setLevel(logging.CRITICAL)  # eventlet reports client disconnects at error level: not ours
    eventlet.spawn(app.check_forever, float(config.get("HEALTH_CHECK_SECONDS", 1.0)))
    eventlet.spawn(
        wsgi.server, ops_sock, OpsApp(app), log=quiet, log_output=False, max_size=16, socket_timeout=10, debug=False
    )
    log.info(
        "serving %s's public pages on http://%s (ops http://%s/health)",
        config["SERVICE_NAME"], config["PUBLIC_ADDRESS"], config["PUBLIC_OPS_ADDRESS"],
    )  # fmt: skip
    wsgi.server(
        public_sock,
        app,
        log=quiet,
        log_output=False,
        max_size=int(config.get("PUBLIC_MAX_CONNECTIONS", 512)),
        url_length_limit=MAX_PATH + MAX_QUERY + 64,
        socket_timeout=float(config.get("PUBLIC_SOCKET_TIMEOUT_SECONDS", 10)),
        keepalive=True,
        debug=False,
    )


def main(argv=None) -> None:
    """The process (``nxshared.public_runner``, which patches the standard library first)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m nxshared.public_runner <service directory>")
    from nxshared.settings import load_settings

    config = load_settings(Path(argv[0]))
    if not config.get("PUBLIC_APP"):
        raise SystemExit(f"{config['SERVICE_NAME']} has no public side (PUBLIC_APP is empty)")
    logging.basicConfig(
        level=config.get("LOG_LEVEL", "INFO"),
        format=f"%(asctime)s {config['SERVICE_NAME']}-public %(levelname)s %(name)s: %(message)s",
    )
    if nice := int(config.get("PUBLIC_NICE", 19)):
        os.nice(nice)  # the bureau's processes first on a shared host
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(config)
    except OSError as exc:
        raise SystemExit(f"{config['SERVICE_NAME']}-public does not start: {exc}") from None
