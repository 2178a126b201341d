"""Remember which WhatsApp messages were already taken, durably, so each is answered once.

Meta re-delivers a message when our 200 is slow or missing, for up to 7 days. Claiming a
message id is one atomic insert (SQL primary key, or Redis ``SET NX``): of two identical
deliveries arriving at the same moment exactly one wins, and a restart forgets nothing.
Delivery statuses (sent/delivered/read/failed with error code) are kept in the same database.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seva import clock
from seva.db import UTCDateTime, create_tables, in_writer_thread, make_engine

KEEP_DAYS = 8  # Meta retries for 7 days

metadata = sa.MetaData()
inbound = sa.Table(
    "whatsapp_inbound", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("claimed_at", UTCDateTime, nullable=False, index=True),
)
statuses = sa.Table(
    "whatsapp_statuses", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_id", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(64), nullable=False),
    sa.Column("error_code", sa.Integer, nullable=True),
    sa.Column("error_title", sa.Text, nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
)



class SQLMessageLog:
    """SQLite by default, sharing the application database (``APP_DB_URL``)."""

    def __init__(self, url: Optional[str] = None):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        self._prune()

    def _prune(self) -> None:
        cutoff = clock.now_utc() - dt.timedelta(days=KEEP_DAYS)
        with self.engine.begin() as conn:
            conn.execute(inbound.delete().where(inbound.c.claimed_at < cutoff))

    def _claim(self, message_id: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(inbound.insert().values(message_id=message_id, claimed_at=clock.now_utc_precise()))
            return True
        except IntegrityError:
            return False

    async def claim(self, message_id: str) -> bool:
        """True the first time a message id is seen, False ever after."""
        return await in_writer_thread(self._claim, message_id)

    def _claimed_at(self, message_id: str) -> Optional[dt.datetime]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(inbound.c.claimed_at).where(
                inbound.c.message_id == message_id)).scalar()

    async def claimed_at(self, message_id: str) -> Optional[dt.datetime]:
        """When handling of this message began (without claiming it), or None."""
        return await asyncio.to_thread(self._claimed_at, message_id)

    def _record(self, message_id, status, recipient, error_code, error_title) -> None:
        with self.engine.begin() as conn:
            conn.execute(statuses.insert().values(
                message_id=message_id, status=status, recipient=recipient, error_code=error_code,
                error_title=error_title, received_at=clock.now_utc()))

    async def record_status(self, message_id: str, status: str, recipient: str,
                            error_code: Optional[int] = None, error_title: Optional[str] = None) -> None:
        await in_writer_thread(self._record, message_id, status, recipient, error_code, error_title)

    def failed(self):
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statuses.select().where(statuses.c.status == "failed")).mappings()]


class RedisMessageLog(SQLMessageLog):
    """Claims in Redis (``SET NX EX``) for several Rasa instances; statuses stay in SQL."""

    def __init__(self, redis_url: str, url: Optional[str] = None):
        super().__init__(url)
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(redis_url)

    async def claim(self, message_id: str) -> bool:
        key = f"seva:wa:inbound:{message_id}"
        return bool(await self.redis.set(key, json.dumps(clock.now_utc_precise().isoformat()), nx=True,
                                         ex=KEEP_DAYS * 86400))

    async def claimed_at(self, message_id: str) -> Optional[dt.datetime]:
        value = await self.redis.get(f"seva:wa:inbound:{message_id}")
        return clock.as_utc(dt.datetime.fromisoformat(json.loads(value))) if value else None


def message_log_from_env() -> SQLMessageLog:
    redis_url = os.environ.get("WHATSAPP_DEDUPE_REDIS_URL")
    return RedisMessageLog(redis_url) if redis_url else SQLMessageLog()
