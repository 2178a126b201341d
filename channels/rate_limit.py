"""Per-sender rate limiting: a flood from one number must not starve everyone else.

Rasa's NLU and policies run on the CPU for every message; one phone sending hundreds of
messages a minute would delay every other citizen. Each sender gets a token bucket:
``burst`` messages at once, then one every ``60 / per_minute`` seconds. Beyond that a
message is not processed and the sender is told, once per quiet spell, to wait a minute.

The buckets live in the channel's database (table ``whatsapp_rate_limits`` in
``APP_DB_URL``), so a restart does not hand a flooder a fresh budget and several Rasa
instances on one database share one budget per sender. Correct under concurrency because
every decision is ONE conditional statement, which the database applies atomically to
the sender's row (PostgreSQL locks the row and re-checks the WHERE on its newest version;
SQLite runs one writer at a time):

- take a token: ``UPDATE … SET tokens = refilled - 1, updated = now WHERE sender = ? AND
  refilled >= 1``, with ``refilled = min(burst, tokens + (now - updated) * rate)`` written
  in SQL over the row's own columns, never over values read earlier. One row changed:
  allowed. None: insert a full bucket less one (``ON CONFLICT DO NOTHING``) for a first
  message; if the row was there (or another process has just made it), the same UPDATE
  once more decides. All three in one transaction;
- warn once: ``UPDATE … SET warned = true WHERE sender = ? AND warned = false``.

A refusal leaves the row as it is: below one token the refill is never capped, so not
writing it down changes nothing. Time is the wall clock (``time.time``), the one clock
several processes share; a clock that steps back adds no tokens. A bucket that has been
full for a while means the same as no row, so such rows are pruned now and then.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from seva.db import create_tables, in_writer_thread, make_engine

DEFAULT_PER_MINUTE = 20
DEFAULT_BURST = 10
PRUNE_EVERY = 1000  # allowed messages between prunes of long-full buckets (per process)

metadata = sa.MetaData()
buckets = sa.Table(
    "whatsapp_rate_limits", metadata,
    sa.Column("sender", sa.String(64), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),  # seconds since the epoch
    sa.Column("warned", sa.Boolean, nullable=False, default=False),
)


class SenderRateLimiter:
    """SQLite by default, in the application database (``APP_DB_URL``)."""

    def __init__(self, url: Optional[str] = None, per_minute: float = DEFAULT_PER_MINUTE,
                 burst: int = DEFAULT_BURST, clock: Callable[[], float] = time.time):
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        self._since_prune = 0

    def _refilled(self, now: float):
        """The sender's tokens at ``now``, in SQL over the row's own columns."""
        elapsed = sa.case((buckets.c.updated < now, now - buckets.c.updated), else_=0.0)
        grown = buckets.c.tokens + elapsed * self.rate
        return sa.case((grown > self.burst, self.burst), else_=grown)

    def _take(self, sender: str) -> bool:
        now = self.clock()
        refilled = self._refilled(now)
        take = buckets.update().where(buckets.c.sender == sender, refilled >= 1.0).values(
            tokens=refilled - 1.0, updated=sa.case((buckets.c.updated < now, now), else_=buckets.c.updated),
            warned=False)
        fresh = {"sender": sender, "tokens": self.burst - 1.0, "updated": now, "warned": False}
        with self.engine.begin() as conn:
            if conn.execute(take).rowcount == 1:
                return True
            if self._insert_if_absent(conn, fresh):
                return True  # the sender's first message: a full bucket, less this one
            return conn.execute(take).rowcount == 1  # the row was there, or another process just made it

    def _insert_if_absent(self, conn, row) -> bool:
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = sqlite if dialect == "sqlite" else postgresql
            return conn.execute(module.insert(buckets).values(**row).on_conflict_do_nothing()).rowcount == 1
        try:  # other databases: a savepoint
            with conn.begin_nested():
                conn.execute(buckets.insert().values(**row))
            return True
        except IntegrityError:
            return False

    async def allow(self, sender: str) -> bool:
        """Take one token for ``sender``; False when the sender is over the limit."""
        allowed = await in_writer_thread(self._take, sender)
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            await in_writer_thread(self.prune)
        return allowed

    def _warn(self, sender: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(buckets.update().where(buckets.c.sender == sender, buckets.c.warned.is_(False))
                                .values(warned=True)).rowcount == 1

    async def should_warn(self, sender: str) -> bool:
        """True once per spell of refused messages: tell the citizen, but not on every one."""
        return await in_writer_thread(self._warn, sender)

    def prune(self) -> int:
        """Forget buckets that have been full again for a minute (the same as no bucket)."""
        full_since = self.clock() - self.burst / self.rate - 60
        with self.engine.begin() as conn:
            return conn.execute(buckets.delete().where(buckets.c.updated < full_since)).rowcount
