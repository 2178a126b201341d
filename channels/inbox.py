"""Messages acknowledged to Meta but not yet finished, kept durably until they are.

Once the webhook has answered 200, Meta never sends the message again: if `rasa run` dies
before the message is handled, it is gone unless we wrote it down first. So the webhook
writes every message here before it answers, and the channel deletes the row when the
message has been handled. Rows left over after a crash are picked up at the next start
(see ``WhatsAppInput._recover``):

- never started (not claimed in the message log) → handled now, in arrival order;
- started but not finished → the citizen is asked to send it again, since part of the
  answer may already have gone out and handling it twice could answer twice.

A row holds the message as parsed (the text a citizen typed) only for the seconds it takes
to answer it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import json
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from channels.whatsapp_inbound import InboundMessage
from seva import clock
from seva.db import UTCDateTime, in_writer_thread, make_engine, submit_to_writer

metadata = sa.MetaData()
pending = sa.Table(
    "whatsapp_pending", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("message", sa.Text, nullable=False),  # InboundMessage as JSON
    sa.Column("received_at", UTCDateTime, nullable=False),
)


class PendingInbox:
    """SQLite by default, in the application database (``APP_DB_URL``).

    Messages acknowledged at the same moment are written in one transaction (a group
    commit on the process's database writer thread): the webhook's 200 waits for one
    short write, not for a queue of them."""

    def __init__(self, url: Optional[str] = None):
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        self._waiting: List[Tuple[List[InboundMessage], concurrent.futures.Future]] = []
        self._lock = threading.Lock()

    def _insert_ignoring_repeats(self, conn, rows: List[Dict[str, Any]]) -> None:
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = sqlite if dialect == "sqlite" else postgresql
            conn.execute(module.insert(pending).on_conflict_do_nothing(), rows)
            return
        for row in rows:  # other databases: one savepoint per row
            try:
                with conn.begin_nested():
                    conn.execute(pending.insert(), [row])
            except IntegrityError:
                pass

    def _write_waiting(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        if not batch:
            return
        now = dt.datetime.now(clock.UTC)  # to the microsecond: replay after a restart is in this order
        rows = {m.message_id: {"message_id": m.message_id, "received_at": now,  # a re-delivery keeps the first
                               "message": json.dumps(dataclasses.asdict(m), ensure_ascii=False)}
                for messages, _ in reversed(batch) for m in messages}
        try:
            with self.engine.begin() as conn:
                self._insert_ignoring_repeats(conn, list(rows.values()))
        except Exception as error:
            for _, future in batch:
                future.set_exception(error)
        else:
            for _, future in batch:
                future.set_result(None)

    async def add(self, messages: Iterable[InboundMessage]) -> None:
        """Write messages down before the webhook acknowledges them."""
        messages = list(messages)
        if not messages:
            return
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._waiting.append((messages, future))
            first = len(self._waiting) == 1
        if first:  # otherwise a write is already queued and will take these too
            submit_to_writer(self._write_waiting)
        await asyncio.wrap_future(future)

    def _remove(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(pending.delete().where(pending.c.message_id == message_id))

    async def done(self, message_id: str) -> None:
        await in_writer_thread(self._remove, message_id)

    def left_over(self) -> List[InboundMessage]:
        """Every message still here, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(pending.c.message).order_by(pending.c.received_at)).all()
        messages = [InboundMessage(**json.loads(row.message)) for row in rows]
        return sorted(messages, key=lambda m: m.timestamp)  # stable: arrival order within a second
