"""Durable work in a table, shared by every instance: take due rows under a lease.

The department outbox (seva/deliveries.py) and the citizen notices (seva/notices.py) are
rows with ``state``, ``attempts``, ``next_attempt_at``, ``lease_owner`` and ``lease_until``.
A row is due when it is pending, its time has come and nobody holds a live lease on it.
Taking rows is one UPDATE of the ids a SELECT … FOR UPDATE SKIP LOCKED picked (on
PostgreSQL two instances never take the same row; SQLite runs one writer at a time), so
the work survives a restart — the row is still there — and an instance that dies holding
a row only delays it until its lease runs out.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from seva import clock


def owner_name() -> str:
    """Who holds a lease: the instance, the process and a random part (a restarted process
    never mistakes a dead one's leases for its own)."""
    return f"{os.environ.get('SEVA_INSTANCE', 'seva')}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take(engine: sa.engine.Engine, table: sa.Table, owner: str, *, limit: int, lease_seconds: float,
         one_per: Optional[sa.Column] = None, now: Optional[dt.datetime] = None) -> List[Dict[str, Any]]:
    """Lease up to ``limit`` due rows, oldest first, and return them (``attempts`` counted).

    With ``one_per`` (a column such as the citizen's number) a row waits while an older
    pending row with the same value exists: one citizen's notices go out in order."""
    now = now or clock.now_utc_precise()
    row, older = table.alias("row"), table.alias("older")
    free = sa.or_(row.c.lease_until.is_(None), row.c.lease_until < now)
    due = sa.and_(row.c.state == "pending", row.c.next_attempt_at <= now, free)
    if one_per is not None:
        due = sa.and_(due, ~sa.exists().where(older.c[one_per.name] == row.c[one_per.name],
                                               older.c.state == "pending", older.c.id < row.c.id))
    ids = sa.select(row.c.id).where(due).order_by(row.c.id).limit(limit)
    if engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True, of=row)
    claim_until = now + dt.timedelta(seconds=lease_seconds)
    with engine.begin() as conn:
        chosen = list(conn.execute(ids).scalars())
        if not chosen:
            return []
        conn.execute(table.update().where(table.c.id.in_(chosen), table.c.state == "pending")
                     .values(lease_owner=owner, lease_until=claim_until, attempts=table.c.attempts + 1))
        rows = conn.execute(table.select().where(table.c.id.in_(chosen), table.c.lease_owner == owner)
                            .order_by(table.c.id)).mappings().all()
    return [dict(r) for r in rows]


def finish(engine: sa.engine.Engine, table: sa.Table, row_id: int, owner: str, **values: Any) -> bool:
    """Update a row this owner holds and release it; False when the lease was lost meanwhile."""
    with engine.begin() as conn:
        result = conn.execute(table.update().where(table.c.id == row_id, table.c.lease_owner == owner)
                              .values(lease_owner=None, lease_until=None, **values))
    return result.rowcount == 1


def retry_after(engine: sa.engine.Engine, table: sa.Table, row_id: int, owner: str, seconds: float,
                **values: Any) -> bool:
    """Put a held row back, to be taken again in ``seconds``."""
    later = clock.now_utc_precise() + dt.timedelta(seconds=seconds)
    return finish(engine, table, row_id, owner, next_attempt_at=later, **values)
