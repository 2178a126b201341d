"""The replies to a message, written down before they are sent: so each goes out once.

A turn's replies are kept (in order) before the first is sent, and each is marked once
the Graph API has taken it (or refused it for good). When an instance dies half-way, the
instance that takes the message over (channels/inbox.py) finds what is left to send here
instead of running the turn again, which would change the conversation twice and answer
twice. The rows go when the message is done.

A reply accepted by the Graph API whose mark was not yet written when the instance died
(the Cloud API has no idempotency key) is told apart by Meta's own word: each reply
carries ``biz_opaque_callback_data`` naming it, Meta echoes that in the message's status
webhooks (sent, delivered, read), and the channel marks the reply sent when one arrives,
at whichever instance. So the instance taking over resends a reply only when no status
came for it within ``STATUS_GRACE_SECONDS`` of its turn: a reply Meta never took.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from seva import clock
from seva.db import UTCDateTime, create_tables, in_writer_thread, make_engine

CALLBACK_PREFIX = "seva:"
STATUS_GRACE_SECONDS = 5.0  # Meta's "sent" status comes within a second or two

metadata = sa.MetaData()
replies = sa.Table(
    "whatsapp_replies", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),  # the inbound message answered
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # the Graph API request body, as JSON
    sa.Column("sent", sa.Boolean, nullable=False, default=False),
    sa.Column("kept_at", UTCDateTime, nullable=False),
)


def callback_for(message_id: str, position: int) -> str:
    """The ``biz_opaque_callback_data`` naming one reply (Meta allows 512 characters)."""
    return f"{CALLBACK_PREFIX}{position}:{message_id}"


def reply_named(callback: str) -> Optional[Tuple[str, int]]:
    """(message id, position) of the reply a status's callback data names, if it is ours."""
    if not callback.startswith(CALLBACK_PREFIX):
        return None
    position, _, message_id = callback[len(CALLBACK_PREFIX):].partition(":")
    return (message_id, int(position)) if position.isdigit() and message_id else None


class ReplyJournal:
    """In the application database (``APP_DB_URL``), beside the inbox."""

    def __init__(self, url: Optional[str] = None, status_grace: float = STATUS_GRACE_SECONDS):
        self.engine = make_engine(url)
        self.status_grace = status_grace
        create_tables(metadata, self.engine)

    def _unsent(self, message_id: str) -> Optional[Tuple[dt.datetime, List[Tuple[int, Dict[str, Any]]]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(replies.c.position, replies.c.body, replies.c.sent, replies.c.kept_at)
                                .where(replies.c.message_id == message_id).order_by(replies.c.position)).all()
        if not rows:
            return None
        return rows[0].kept_at, [(row.position, json.loads(row.body)) for row in rows if not row.sent]

    async def unsent(self, message_id: str) -> Optional[List[Tuple[int, Dict[str, Any]]]]:
        """The replies still to send for a message, or None when none were written down.

        Replies written down less than ``status_grace`` seconds ago may have been taken by
        Meta with their status still on the way: it waits that long, then asks again."""
        found = await in_writer_thread(self._unsent, message_id)
        if found is None:
            return None
        kept_at, unsent = found
        wait = self.status_grace - (clock.now_utc() - kept_at).total_seconds()
        if unsent and wait > 0:
            await asyncio.sleep(wait)
            found = await in_writer_thread(self._unsent, message_id)
            unsent = found[1] if found else []
        return unsent

    def _keep(self, message_id: str, bodies: Sequence[Dict[str, Any]]) -> None:
        now = clock.now_utc()
        with self.engine.begin() as conn:
            conn.execute(replies.delete().where(replies.c.message_id == message_id))
            if bodies:
                conn.execute(replies.insert(), [
                    {"message_id": message_id, "position": i, "body": json.dumps(body, ensure_ascii=False),
                     "sent": False, "kept_at": now} for i, body in enumerate(bodies)])

    async def keep(self, message_id: str, bodies: Sequence[Dict[str, Any]]) -> List[Tuple[int, Dict[str, Any]]]:
        """Write a turn's replies down, in order, each named for Meta's status webhooks;
        they are then the ones to send."""
        named = [{**body, "biz_opaque_callback_data": callback_for(message_id, i)} for i, body in enumerate(bodies)]
        await in_writer_thread(self._keep, message_id, named)
        return list(enumerate(named))

    def _mark_sent(self, message_id: str, position: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(replies.update().where(replies.c.message_id == message_id,
                                                replies.c.position == position).values(sent=True))

    async def mark_sent(self, message_id: str, position: int) -> None:
        await in_writer_thread(self._mark_sent, message_id, position)

    async def status_came(self, callback: str) -> None:
        """Meta reported on a reply (its callback data): it was sent."""
        named = reply_named(callback)
        if named is not None:
            await in_writer_thread(self._mark_sent, *named)

    def _forget(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(replies.delete().where(replies.c.message_id == message_id))

    async def forget(self, message_id: str) -> None:
        await in_writer_thread(self._forget, message_id)
