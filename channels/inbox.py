"""The durable inbox: acknowledged WhatsApp messages, a work queue shared by every instance.

Once the webhook has answered 200, Meta never sends the message again: if the process dies
before the message is handled it is gone unless we wrote it down first. So the webhook
writes every message here before it answers, and whichever instance (``rasa run``) is free
takes it from here, in the database every instance shares (``APP_DB_URL``: PostgreSQL in a
cluster, a SQLite file by default).

Taking a message is a lease, the usual PostgreSQL queue (``FOR UPDATE SKIP LOCKED``):

- a message can be taken only when it is the oldest of its sender's (WhatsApp timestamp,
  then arrival) and none of the sender's messages is leased: one citizen's messages are
  handled one at a time, in arrival order, whichever instance received them;
- the lease lasts ``LEASE_SECONDS`` and the instance renews it while it works
  (``renew``, from a thread of its own, so a busy event loop cannot lose it);
- the row is deleted when every reply to it is sent (``done``). A lease that runs out
  means its instance died: the next poll of any instance takes the message again, with
  ``attempts`` > 1 telling it to resume rather than start over (channels/whatsapp.py,
  channels/replies.py). A live instance's messages are never taken: it renews them.

On SQLite (one process) the same statements run without the row locks: SQLite runs one
writer at a time, and a claim is a single UPDATE.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import json
import logging
import threading
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from channels import customer_window
from channels.whatsapp_inbound import InboundMessage
from seva import clock
from seva.db import UTCDateTime, create_tables, in_writer_thread, make_engine, submit_to_writer

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10.0  # a dead instance's messages are taken by another within this (+ one poll)

metadata = sa.MetaData()
pending = sa.Table(
    "whatsapp_inbox", metadata,
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=False),  # WhatsApp's timestamp (seconds)
    sa.Column("received_at", UTCDateTime, nullable=False),  # to the microsecond: arrival order
    sa.Column("message", sa.Text, nullable=False),  # InboundMessage as JSON
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("claim", sa.String(40), nullable=True),  # which claim took it (to read the rows back)
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Index("ix_whatsapp_inbox_sender_order", "sender", "sent_at", "received_at"),
)
_OLD_TABLE = "whatsapp_pending"  # the one-process inbox before the queue: moved over at start


@dataclasses.dataclass(frozen=True)
class Taken:
    """A message this instance holds the lease on."""

    message: InboundMessage
    received_at: dt.datetime
    attempts: int  # 1 the first time; more when an instance died holding it



def instance_name() -> str:
    """Who holds a lease: the instance (``SEVA_INSTANCE``), the process, and a random part
    so a restarted process never mistakes a dead one's leases for its own."""
    import os

    return f"{os.environ.get('SEVA_INSTANCE', 'seva')}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Inbox:
    """The queue, in the application database (``APP_DB_URL``).

    Messages acknowledged at the same moment are written in one transaction (a group
    commit on the process's database writer thread): the webhook's 200 waits for one
    short write, not for a queue of them."""

    def __init__(self, url: Optional[str] = None, owner: Optional[str] = None,
                 lease_seconds: float = LEASE_SECONDS):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        create_tables(customer_window.metadata, self.engine)
        self.owner = owner or instance_name()
        self.lease_seconds = lease_seconds
        self._waiting: List[Tuple[List[InboundMessage], concurrent.futures.Future]] = []
        self._lock = threading.Lock()
        self._move_old_rows()

    # ------------------------------------------------------------------ adding
    def _row(self, message: InboundMessage, received_at: dt.datetime) -> Dict[str, Any]:
        return {"message_id": message.message_id, "sender": message.sender, "sent_at": int(message.timestamp or 0),
                "received_at": received_at, "attempts": 0,
                "message": json.dumps(dataclasses.asdict(message), ensure_ascii=False)}

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
        now = clock.now_utc_precise()
        rows = {m.message_id: self._row(m, now)  # a re-delivery in the same batch keeps the first
                for messages, _ in reversed(batch) for m in messages}
        latest: Dict[str, dt.datetime] = {}  # each sender's newest message: the 24-hour window
        for messages, _ in batch:
            for m in messages:
                at = customer_window.message_time(int(m.timestamp or 0), now)
                latest[m.sender] = max(at, latest.get(m.sender, at))
        try:
            with self.engine.begin() as conn:
                self._insert_ignoring_repeats(conn, list(rows.values()))
                customer_window.record(conn, latest)
        except Exception as error:
            for _, future in batch:
                future.set_exception(error)
        else:
            for _, future in batch:
                future.set_result(None)

    async def add(self, messages: Iterable[InboundMessage]) -> None:
        """Write messages down before the webhook acknowledges them (a re-delivery of a
        message still here is ignored)."""
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

    # ------------------------------------------------------------------ taking
    def _claimable(self, now: dt.datetime, limit: int):
        """The ids of up to ``limit`` messages that may be taken now (see the module doc)."""
        c, e = pending.alias("c"), pending.alias("e")
        leased = sa.and_(e.c.lease_until.isnot(None), e.c.lease_until >= now)
        earlier = sa.or_(e.c.sent_at < c.c.sent_at,
                         sa.and_(e.c.sent_at == c.c.sent_at, e.c.received_at < c.c.received_at),
                         sa.and_(e.c.sent_at == c.c.sent_at, e.c.received_at == c.c.received_at,
                                 e.c.message_id < c.c.message_id))
        blocked = sa.exists().where(e.c.sender == c.c.sender, e.c.message_id != c.c.message_id,
                                    sa.or_(leased, earlier))
        query = (sa.select(c.c.message_id)
                 .where(sa.or_(c.c.lease_until.is_(None), c.c.lease_until < now), ~blocked)
                 .order_by(c.c.sent_at, c.c.received_at, c.c.message_id).limit(limit))
        if self.engine.dialect.name == "postgresql":  # rows another instance is taking are skipped
            query = query.with_for_update(skip_locked=True, of=c)
        return query

    def take(self, limit: int) -> List[Taken]:
        """Lease up to ``limit`` messages that are due, oldest first (at most one per sender)."""
        if limit <= 0:
            return []
        now = clock.now_utc_precise()
        claim = uuid.uuid4().hex
        with self.engine.begin() as conn:
            taken = conn.execute(
                pending.update().where(pending.c.message_id.in_(self._claimable(now, limit)))
                .values(lease_owner=self.owner, lease_until=now + dt.timedelta(seconds=self.lease_seconds),
                        claim=claim, attempts=pending.c.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            if not taken:
                return []
            rows = conn.execute(sa.select(pending.c.message, pending.c.received_at, pending.c.attempts)
                                .where(pending.c.claim == claim)
                                .order_by(pending.c.sent_at, pending.c.received_at, pending.c.message_id)).all()
        return [Taken(InboundMessage(**json.loads(row.message)), row.received_at, row.attempts) for row in rows]

    def renew(self, message_ids: Iterable[str]) -> int:
        """Extend this instance's leases on the messages it is still working on; how many.
        (Only those: a message it stopped working on without finishing is left to run out.)"""
        wanted = list(message_ids)
        if not wanted:
            return 0
        until = clock.now_utc_precise() + dt.timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:
            return conn.execute(pending.update().where(pending.c.lease_owner == self.owner,
                                                       pending.c.message_id.in_(wanted))
                                .values(lease_until=until)).rowcount

    def let_go(self, message_id: str, seconds: float) -> None:
        """Give a message back, to be taken again (by anyone) ``seconds`` from now."""
        with self.engine.begin() as conn:
            conn.execute(pending.update().where(pending.c.message_id == message_id,
                                                pending.c.lease_owner == self.owner)
                         .values(lease_owner=None, lease_until=clock.now_utc_precise() + dt.timedelta(seconds=seconds)))

    def release_all(self) -> int:
        """Give this instance's leases back at once (on a clean stop): others need not wait."""
        with self.engine.begin() as conn:
            return conn.execute(pending.update().where(pending.c.lease_owner == self.owner)
                                .values(lease_owner=None, lease_until=None)).rowcount

    def _remove(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(pending.delete().where(pending.c.message_id == message_id,
                                                pending.c.lease_owner == self.owner))

    async def done(self, message_id: str) -> None:
        """The message is answered: forget it (only while this instance holds it)."""
        await in_writer_thread(self._remove, message_id)

    # ------------------------------------------------------------------ looking
    def depth(self) -> Tuple[int, float]:
        """How many messages wait or are being handled, and the age in seconds of the oldest."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(pending.c.received_at))).one()
        if not count or oldest is None:
            return 0, 0.0
        oldest = clock.as_utc(oldest) if isinstance(oldest, dt.datetime) else \
            clock.as_utc(dt.datetime.fromisoformat(str(oldest)))
        return int(count), max(0.0, (clock.now_utc_precise() - oldest).total_seconds())

    def waiting(self) -> List[InboundMessage]:
        """Every message still here, in the order they are taken."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(pending.c.message).order_by(
                pending.c.sent_at, pending.c.received_at, pending.c.message_id)).all()
        return [InboundMessage(**json.loads(row.message)) for row in rows]

    # ---------------------------------------------------------------- upgrade
    def _move_old_rows(self) -> None:
        """Messages a previous version left acknowledged but unanswered join the queue."""
        if not sa.inspect(self.engine).has_table(_OLD_TABLE):
            return
        old = sa.Table(_OLD_TABLE, sa.MetaData(), autoload_with=self.engine)
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(old.c.message, old.c.received_at)).all()
            messages = [(InboundMessage(**json.loads(r.message)), clock.as_utc(r.received_at)) for r in rows]
            if messages:
                self._insert_ignoring_repeats(conn, [self._row(m, at) for m, at in messages])
                logger.warning("WhatsApp inbox: %d unanswered message(s) moved to the shared queue", len(messages))
            old.drop(conn)


class LeaseKeeper:
    """Renews an inbox's leases on the messages ``holding()`` names, every third of their
    length, on a thread of its own."""

    def __init__(self, inbox: Inbox, holding: Callable[[], Iterable[str]]):
        self.inbox = inbox
        self.holding = holding
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="whatsapp-leases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.inbox.lease_seconds / 3):
            try:
                self.inbox.renew(self.holding())
            except Exception as error:  # the database is away: the leases may run out, nothing else breaks
                logger.error("WhatsApp inbox: could not renew leases (%s)", error.__class__.__name__)

    def stop(self) -> None:
        self._stop.set()
