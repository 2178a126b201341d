"""The replies to a message, written down before they are sent: so each goes out once.

A turn's replies are kept (in order) before the first is sent, and each is marked once
the Graph API has taken it (or refused it for good). When an instance dies half-way, the
instance that takes the message over (channels/inbox.py) finds what is left to send here
instead of running the turn again, which would change the conversation twice and answer
twice. The rows go when the message is done.

What stays: a crash in the moment between the Graph API accepting a reply and its mark
being written sends that one reply again (the Cloud API has no idempotency key); the
window is one local write long.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from seva.db import in_writer_thread, make_engine

metadata = sa.MetaData()
replies = sa.Table(
    "whatsapp_replies", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),  # the inbound message answered
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # the Graph API request body, as JSON
    sa.Column("sent", sa.Boolean, nullable=False, default=False),
)


class ReplyJournal:
    """In the application database (``APP_DB_URL``), beside the inbox."""

    def __init__(self, url: Optional[str] = None):
        self.engine = make_engine(url)
        metadata.create_all(self.engine)

    def _unsent(self, message_id: str) -> Optional[List[Tuple[int, Dict[str, Any]]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(replies.c.position, replies.c.body, replies.c.sent)
                                .where(replies.c.message_id == message_id).order_by(replies.c.position)).all()
        if not rows:
            return None
        return [(row.position, json.loads(row.body)) for row in rows if not row.sent]

    async def unsent(self, message_id: str) -> Optional[List[Tuple[int, Dict[str, Any]]]]:
        """The replies still to send for a message, or None when none were written down."""
        return await in_writer_thread(self._unsent, message_id)

    def _keep(self, message_id: str, bodies: Sequence[Dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(replies.delete().where(replies.c.message_id == message_id))
            if bodies:
                conn.execute(replies.insert(), [
                    {"message_id": message_id, "position": i, "body": json.dumps(body, ensure_ascii=False),
                     "sent": False} for i, body in enumerate(bodies)])

    async def keep(self, message_id: str, bodies: Sequence[Dict[str, Any]]) -> List[Tuple[int, Dict[str, Any]]]:
        """Write a turn's replies down, in order; they are then the ones to send."""
        await in_writer_thread(self._keep, message_id, list(bodies))
        return list(enumerate(bodies))

    def _mark_sent(self, message_id: str, position: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(replies.update().where(replies.c.message_id == message_id,
                                                replies.c.position == position).values(sent=True))

    async def mark_sent(self, message_id: str, position: int) -> None:
        await in_writer_thread(self._mark_sent, message_id, position)

    def _forget(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(replies.delete().where(replies.c.message_id == message_id))

    async def forget(self, message_id: str) -> None:
        await in_writer_thread(self._forget, message_id)
