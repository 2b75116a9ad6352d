"""The public side's guarantees, on a database file of its own (no service needed): read-only,
ETag/304/Cache-Control, shedding with 503 + Retry-After, bad input refused with a short 4xx and
nothing logged above debug, a lost database ridden out and reported."""

import json
import logging
import sqlite3

import eventlet
import pytest
from eventlet.event import Event
from sqlalchemy import text
from werkzeug.test import Client

from nxshared.core.errors import ValidationError
from nxshared.publicside import MAX_HEADERS, OpsApp, PublicApp, PublicPages, read_only_engine


class Repo:
    def __init__(self, session):
        self.session = session

    def rows(self):
        return [r for (r,) in self.session.execute(text("SELECT name FROM things ORDER BY name"))]


def things(repo, args):
    if set(args) - {"q"}:
        raise ValidationError("INVALID_INPUT", "未知参数")
    return {"items": repo.rows()}


def thing(repo, args, name):
    return {"name": name} if name in repo.rows() else None


PAGES = PublicPages(routes={"/public/things": things, "/public/things/<name>": thing}, repository=Repo)


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "svc.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE things (name TEXT)")
        conn.execute("INSERT INTO things VALUES ('a'), ('b')")
    return path


def public(db_file, **config):
    app = PublicApp(PAGES, f"sqlite:///{db_file}", {"PUBLIC_CACHE_SECONDS": 0, **config})
    return app, Client(app)


def test_pages_carry_cache_control_and_an_etag_and_an_unchanged_page_is_304(db_file):
    app, client = public(db_file, PUBLIC_MAX_AGE_SECONDS=30)
    first = client.get("/public/things")
    assert first.status_code == 200 and json.loads(first.data) == {"items": ["a", "b"]}
    assert first.headers["Cache-Control"] == "public, max-age=30"
    etag = first.headers["ETag"]
    again = client.get("/public/things", headers={"If-None-Match": etag})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    assert client.get("/public/things", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    head = client.head("/public/things")
    assert (head.status_code, head.data, head.headers["ETag"]) == (200, b"", etag)

    with sqlite3.connect(db_file) as conn:
        conn.execute("INSERT INTO things VALUES ('c')")
    changed = client.get("/public/things", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert json.loads(changed.data) == {"items": ["a", "b", "c"]}


def test_a_page_is_read_once_per_cache_period(db_file):
    app, client = public(db_file, PUBLIC_CACHE_SECONDS=60)
    etag = client.get("/public/things").headers["ETag"]
    with sqlite3.connect(db_file) as conn:
        conn.execute("INSERT INTO things VALUES ('c')")
    assert client.get("/public/things").headers["ETag"] == etag  # from memory, within the period
    assert app.metrics.cache.labels("miss")._value.get() == 1
    assert app.metrics.cache.labels("hit")._value.get() == 1


def test_it_cannot_write_the_database(db_file):
    engine = read_only_engine(f"sqlite:///{db_file}")
    with pytest.raises(Exception, match="readonly"), engine.begin() as conn:
        conn.execute(text("INSERT INTO things VALUES ('x')"))
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT count(*) FROM things").fetchone() == (2,)


def test_reads_beyond_capacity_are_shed_with_503_and_retry_after(db_file):
    release = Event()
    entered = []

    def slow(repo, args, **values):
        entered.append(1)
        release.wait()
        return {"items": repo.rows()}

    pages = PublicPages(routes={"/public/slow": slow, "/public/slow/<name>": slow}, repository=Repo)
    app = PublicApp(pages, f"sqlite:///{db_file}", {"PUBLIC_MAX_READS": 1, "PUBLIC_RETRY_AFTER_SECONDS": 2})
    client = Client(app)
    first = eventlet.spawn(client.get, "/public/slow")
    same_page = eventlet.spawn(client.get, "/public/slow")  # waits for the read under way, not shed
    while not entered:
        eventlet.sleep(0.01)
    shed = client.get("/public/slow/other")
    assert (shed.status_code, shed.headers["Retry-After"]) == (503, "2")
    assert json.loads(shed.data)["error"] == "BUSY"
    release.send(None)
    assert first.wait().status_code == 200 and same_page.wait().status_code == 200
    assert entered == [1]  # one read for both
    assert client.get("/public/slow/other").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/public/things", {}, 405),
        ("DELETE", "/public/things/a", {}, 405),
        ("GET", "/public/" + "x" * 300, {}, 414),
        ("GET", "/public/things?q=" + "x" * 600, {}, 414),
        ("GET", "/public/things", {"X-Big": "x" * (MAX_HEADERS + 1)}, 431),
        ("GET", "/public/things", {f"X-H{i}": "1" for i in range(80)}, 431),
        ("GET", "/nothing/here", {}, 404),
        ("GET", "/metrics", {}, 404),
        ("GET", "/health", {}, 404),
        ("GET", "/public/things?page=1", {}, 400),
        ("GET", "/public/things?" + "&".join(f"q{i}=1" for i in range(20)), {}, 400),
        ("GET", "/public/things/zzz", {}, 404),
    ],
)
def test_bad_input_is_a_short_4xx_and_nothing_is_logged_above_debug(db_file, caplog, method, path, headers, status):
    app, client = public(db_file)
    with caplog.at_level(logging.DEBUG):
        response = client.open(path, method=method, headers=headers)
    assert response.status_code == status
    assert len(response.data) < 200 and "error" in json.loads(response.data)
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
    if status == 405:
        assert response.headers["Allow"] == "GET, HEAD"


def test_a_lost_database_is_503_and_reported_then_it_comes_back_by_itself(tmp_path):
    missing = tmp_path / "later.db"
    app, client = public(missing)
    ops = Client(OpsApp(app))
    app.check()
    response = client.get("/public/things")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    health = ops.get("/health")
    assert health.status_code == 503 and json.loads(health.data)["database"].startswith("error:")
    assert ops.get("/health/live").status_code == 200  # a restart would not cure it

    with sqlite3.connect(missing) as conn:  # the database is back (created, restored, reachable again)
        conn.execute("CREATE TABLE things (name TEXT)")
        conn.execute("INSERT INTO things VALUES ('a'), ('b')")
    app.check()
    assert ops.get("/health").status_code == 200
    assert json.loads(client.get("/public/things").data) == {"items": ["a", "b"]}
    assert "nx_public_requests_total" in ops.get("/metrics").get_data(as_text=True)
