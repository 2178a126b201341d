"""When each citizen last wrote to us: WhatsApp's 24-hour customer service window.

Meta lets a business send free-form messages only within 24 hours of the customer's last
message; after that only an approved template (error 131047 otherwise). The inbox records
each citizen's latest message time here in the same transaction that writes the message
down (channels/inbox.py), from WhatsApp's own timestamp, which is what Meta counts from;
the department notices (channels/department.py) read it to choose free-form or template.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from seva import clock
from seva.db import UTCDateTime

WINDOW = dt.timedelta(hours=24)
MARGIN = dt.timedelta(minutes=5)  # the clocks of Meta and ours differ a little: use a template near the end

metadata = sa.MetaData()
contacts = sa.Table(
    "whatsapp_contacts", metadata,
    sa.Column("sender", sa.String(64), primary_key=True),
    sa.Column("last_message_at", UTCDateTime, nullable=False),
)


def message_time(timestamp: int, received_at: dt.datetime) -> dt.datetime:
    """WhatsApp's time of a message (seconds), never later than when it reached us."""
    if not timestamp:
        return received_at
    return min(dt.datetime.fromtimestamp(timestamp, clock.UTC), received_at)


def record(conn: sa.engine.Connection, latest: Dict[str, dt.datetime]) -> None:
    """Move each sender's last message time forward (never back: messages come out of order)."""
    if not latest:
        return
    rows: List[Dict[str, Any]] = [{"sender": sender, "last_message_at": at} for sender, at in latest.items()]
    dialect = conn.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        insert = module.insert(contacts)
        conn.execute(insert.on_conflict_do_update(
            index_elements=[contacts.c.sender], set_={"last_message_at": insert.excluded.last_message_at},
            where=contacts.c.last_message_at < insert.excluded.last_message_at), rows)
        return
    for row in rows:  # other databases: read, then write
        at: dt.datetime = row["last_message_at"]
        current = conn.execute(sa.select(contacts.c.last_message_at).where(
            contacts.c.sender == row["sender"])).scalar()
        if current is None:
            conn.execute(contacts.insert().values(**row))
        elif clock.as_utc(current) < at:
            conn.execute(contacts.update().where(contacts.c.sender == row["sender"]).values(last_message_at=at))


def last_message_at(engine: sa.engine.Engine, sender: str) -> Optional[dt.datetime]:
    with engine.connect() as conn:
        return conn.execute(sa.select(contacts.c.last_message_at).where(contacts.c.sender == sender)).scalar()


def is_open(engine: sa.engine.Engine, sender: str, now: Optional[dt.datetime] = None) -> bool:
    """Whether a free-form message to ``sender`` is allowed now (with a small safety margin)."""
    last = last_message_at(engine, sender)
    now = now or clock.now_utc_precise()
    return last is not None and now < last + WINDOW - MARGIN
