"""Tables every service has besides its own: the outbox and the inbox, the Money column type, and
the one-statement insert-if-absent they and the services' own tables use."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table, Text, bindparam, text, types

from nxshared.core.money import CENT


class Money(types.TypeDecorator):
    """A Decimal in yuan stored as whole cents, exact on every backend."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 100).quantize(CENT)


class UtcDateTime(types.TypeDecorator):
    """An aware UTC timestamp on every backend (SQLite would hand it back naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC timestamps")
        return None if value is None else value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def outbox_table(metadata):
    """Events written in the same transaction as the state change that caused them.

    ``ix_outbox_unsent`` holds only the unsent rows, by project: the relay's round (each project's
    oldest unsent event) reads it and nothing else, however many sent rows the table keeps, and
    whatever statistics the planner has."""
    unsent = text("sent_at IS NULL")
    return Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(64), nullable=False),
        Column("project_id", String(64), index=True),
        Column("payload", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("sent_at", UtcDateTime, index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Index("ix_outbox_unsent", "project_id", "id", sqlite_where=unsent, postgresql_where=unsent),
    )


def inbox_table(metadata):
    """Event ids this service has applied, recorded in the transaction of their effect."""
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("handler", String(64), primary_key=True),
        Column("processed_at", UtcDateTime, nullable=False),
    )


def insert_if_absent(table, *columns):
    """``INSERT INTO <table> (<columns>) VALUES (…) ON CONFLICT DO NOTHING`` (every column if none
    are named): one statement that adds a row or, when one with the same key is there, does nothing
    (rowcount 0), the same text on SQLite and PostgreSQL. Every named column needs a value; a column
    with a constant default is always inserted, with its default unless a value is given (as
    ``insert(table)`` would).

    Text rather than ``sqlite.insert(table).on_conflict_do_nothing()``: SQLAlchemy caches no dialect
    insert with an ON CONFLICT clause, so that one is compiled again at every execution (~0.3 ms).
    The parameters keep their columns' types (``UtcDateTime``, ``Money``, JSON).
    """
    return insert_text(table, columns, "ON CONFLICT DO NOTHING")


def insert_text(table, columns, tail):
    """``INSERT INTO <table> (<columns>) VALUES (…) <tail>`` as text, built once (every column if
    none are named): a column with a constant default is always inserted, with its default unless a
    value is given; the parameters keep their columns' types."""
    named = [table.c[name] for name in columns] if columns else list(table.c)
    chosen = named + [column for column in table.c if column not in named and _constant_default(column)]
    names = ", ".join(column.name for column in chosen)
    values = ", ".join(f":{column.name}" for column in chosen)
    statement = text(f"INSERT INTO {table.name} ({names}) VALUES ({values}) {tail}")
    return statement.bindparams(*(_parameter(column) for column in chosen))


def _constant_default(column):
    return column.default is not None and column.default.is_scalar


def _parameter(column):
    if _constant_default(column):
        return bindparam(column.name, value=column.default.arg, type_=column.type)
    return bindparam(column.name, type_=column.type)
