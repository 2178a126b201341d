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
import dataclasses
import datetime as dt
import json
from typing import Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from channels.whatsapp_inbound import InboundMessage
from seva.db import make_engine

metadata = sa.MetaData()
pending = sa.Table(
    "whatsapp_pending", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("message", sa.Text, nullable=False),  # InboundMessage as JSON
    sa.Column("received_at", sa.DateTime, nullable=False),
)


class PendingInbox:
    """SQLite by default, in the application database (``APP_DB_URL``)."""

    def __init__(self, url: Optional[str] = None):
        self.engine = make_engine(url)
        metadata.create_all(self.engine)

    def _add(self, messages: List[InboundMessage]) -> None:
        now = dt.datetime.utcnow()
        for message in messages:
            try:
                with self.engine.begin() as conn:
                    conn.execute(pending.insert().values(
                        message_id=message.message_id, received_at=now,
                        message=json.dumps(dataclasses.asdict(message), ensure_ascii=False)))
            except IntegrityError:  # a re-delivery of a message still here: keep the first
                pass

    async def add(self, messages: Iterable[InboundMessage]) -> None:
        """Write messages down before the webhook acknowledges them."""
        messages = list(messages)
        if messages:
            await asyncio.to_thread(self._add, messages)

    def _remove(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(pending.delete().where(pending.c.message_id == message_id))

    async def done(self, message_id: str) -> None:
        """Inline, on the channel's worker loop (see ``SQLMessageLog.claim``)."""
        self._remove(message_id)

    def left_over(self) -> List[InboundMessage]:
        """Every message still here, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(pending.c.message).order_by(pending.c.received_at)).all()
        messages = [InboundMessage(**json.loads(row.message)) for row in rows]
        return sorted(messages, key=lambda m: m.timestamp)  # stable: arrival order within a second
