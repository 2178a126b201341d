"""The one place that turns a database URL into a SQLAlchemy engine.

The application store and the WhatsApp message log share a database (``APP_DB_URL``,
a SQLite file by default) and must open it the same way: the folder created, a busy
timeout, usable from several threads, WAL journal and foreign keys on, and connections
kept in a pool. (SQLAlchemy 1.4 opens a new SQLite connection per transaction by default;
with three short writes per WhatsApp message that reconnecting was a visible part of the
channel's cost — bench/RESULTS.md.)
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, TypeVar

import sqlalchemy as sa

from seva import clock

T = TypeVar("T")

DEFAULT_DB = Path(__file__).resolve().parent.parent / "var" / "seva.db"


def database_url(url: Optional[str] = None) -> str:
    return url or os.environ.get("APP_DB_URL") or f"sqlite:///{DEFAULT_DB}"


def make_engine(url: Optional[str] = None) -> sa.engine.Engine:
    url = database_url(url)
    kwargs: Dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(poolclass=sa.pool.QueuePool, pool_size=5, max_overflow=10)
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_CREATE_TABLES_LOCK = 0x5E7A_0001  # a PostgreSQL advisory lock key of our own


def create_tables(metadata: sa.MetaData, engine: sa.engine.Engine) -> None:
    """Create the tables of ``metadata`` that are missing.

    Instances starting together on one fresh PostgreSQL race in CREATE TABLE (the loser
    fails with a unique violation on pg_type): there the check-and-create runs under a
    transaction-scoped advisory lock, so the second instance finds the tables made."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_TABLES_LOCK})
        metadata.create_all(conn)


def add_missing_columns(metadata: sa.MetaData, engine: sa.engine.Engine) -> None:
    """Bring tables made by an older version up to ``metadata``: add the nullable columns and
    the indexes it lacks (``create_all`` only makes missing tables). Enough for additive
    changes, which is all the schema has had; anything else needs a real migration."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_TABLES_LOCK})
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"{table.name}.{column.name} is missing and NOT NULL: migrate by hand")
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
            for index in table.indexes:
                index.create(conn, checkfirst=True)


# One thread does all of a process's channel writes (inbox, claims, statuses). SQLite has
# one writer at a time; writers from several threads wait for each other in SQLite's busy
# handler, which sleeps in growing steps (1, 2, 5 … 100 ms): the webhook's 200 waited up
# to 850 ms behind the worker's claims while the bot was busy (bench/webhook_ack.py).
# Queued on one thread they take their turn in order instead.
_WRITER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="seva-db-writer")


async def in_writer_thread(function: Callable[..., T], *args: Any) -> T:
    """Run a short database write on the process's single writer thread."""
    return await asyncio.get_running_loop().run_in_executor(_WRITER, function, *args)


def submit_to_writer(function: Callable[[], Any]) -> None:
    """Queue a write that reports its outcome itself (see channels/inbox.py)."""
    _WRITER.submit(function)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp written and read back as aware UTC.

    ``DateTime(timezone=True)`` is TIMESTAMPTZ on PostgreSQL, but SQLite keeps no offset
    (SQLAlchemy writes the wall-clock fields and drops tzinfo), so values are converted
    to UTC before writing and marked UTC after reading. Rows written before timestamps
    were aware hold the server's naive local time (UTC on our servers): read as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = clock.as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else clock.as_utc(value)
