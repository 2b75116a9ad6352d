"""An upgraded database keeps working: a SQLite database that already holds rows other rows
reference is migrated to head (a batch migration rebuilds a referenced table; with foreign keys
enforced that failed, and review could not start on a database made by an earlier release)."""

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from nxshared.db import migrate

ROOT = Path(__file__).resolve().parents[2]


def upgrade_to(url, migrations, revision):
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    engine = create_engine(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    engine.dispose()


def insert_row(db, table, **given):
    """A row of ``table`` with ``given`` values and a plain value in every other NOT NULL column."""
    plain = {"INTEGER": 0, "BOOLEAN": 0, "JSON": "{}"}
    columns = db.execute(f'PRAGMA table_info("{table}")').fetchall()  # cid, name, type, notnull, default, pk
    row = {name: plain.get(kind.split("(")[0], "1.00") for _, name, kind, notnull, _, pk in columns if notnull or pk}
    row.update(given)
    names = ", ".join(f'"{n}"' for n in row)
    db.execute(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(row))})', list(row.values()))


def test_a_review_database_of_an_earlier_release_with_reviews_in_it_migrates_to_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    migrations = ROOT / "services" / "review" / "migrations"
    upgrade_to(url, migrations, "0003")  # the release before delivery and acceptance
    with sqlite3.connect(tmp_path / "review.db") as db:
        insert_row(db, "planned_projects", project_id="prj-1")
        insert_row(db, "reviews", review_id="rev-1", project_id="prj-1")
    migrate(url, migrations)  # 0004 rebuilds planned_projects, which reviews reference
    with sqlite3.connect(tmp_path / "review.db") as db:
        assert db.execute("SELECT project_id FROM reviews").fetchall() == [("prj-1",)]
        assert db.execute("SELECT hosted_on_big_data_center FROM planned_projects").fetchall() == [(0,)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def revision_of(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_a_service_taken_back_to_a_previous_release_has_its_database_migrated_down_and_up_again(tmp_path):
    """``migrate(..., to=REVISION)`` goes down when the database is past it (the previous release's
    code cannot undo migrations it does not know), keeps the rows, and a later start goes up again."""
    path = tmp_path / "planning.db"
    url = f"sqlite:///{path}"
    migrations = ROOT / "services" / "planning" / "migrations"
    migrate(url, migrations)
    head = revision_of(path)
    with sqlite3.connect(path) as db:
        insert_row(db, "projects", project_id="prj-1")
    migrate(url, migrations, to="0004")  # planning's head in release ce9bfcb
    assert revision_of(path) == "0004"
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "risk_ratings" not in tables and "reminders" not in tables
        assert db.execute("SELECT project_id FROM projects").fetchall() == [("prj-1",)]
    migrate(url, migrations, to="0004")  # already there: nothing to do
    assert revision_of(path) == "0004"
    migrate(url, migrations)
    assert revision_of(path) == head != "0004"
