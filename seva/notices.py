"""Messages a citizen is owed without asking: a status change, a time limit that passed.

A notice is a row of ``citizen_notices`` (seva/store.py), written in the same transaction
as what it tells about: a status change (``Store.change_status``) or, from the periodic
scan below, an application whose ORTPSA due date has passed undecided. Each has a unique
key (``status:<change id>``, ``overdue:<application id>``), so a change posted twice, or
two instances scanning at once, still make one notice. channels/department.py sends them.

The ORTPSA clock is this scan, not a timer in a process: the due date is in the
application's row, and any instance's next scan after it finds the application — a
restart or a dead instance loses nothing (Rasa's reminders live in one process's memory).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seva import clock, work_queue
from seva.store import FINAL_STATUSES, Store, applications, citizen_notices

logger = logging.getLogger(__name__)

LEASE_SECONDS = 120.0  # composing (a Rasa action) and sending (Graph API retries) fit in this
OVERDUE_BATCH = 500


class NoticeQueue:
    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine
        self.owner = work_queue.owner_name()

    def take(self, limit: int = 8) -> List[Dict[str, Any]]:
        """Due notices under a lease, oldest first, one per citizen at a time (in order)."""
        return work_queue.take(self.engine, citizen_notices, self.owner, limit=limit,
                               lease_seconds=LEASE_SECONDS, one_per=citizen_notices.c.sender_id)

    def keep_rendered(self, notice_id: int, rendered: Dict[str, Any]) -> None:
        """What Rasa composed, kept so that a retry sends the same thing without asking again."""
        with self.engine.begin() as conn:
            conn.execute(citizen_notices.update().where(citizen_notices.c.id == notice_id,
                                                        citizen_notices.c.lease_owner == self.owner)
                         .values(rendered=json.dumps(rendered, ensure_ascii=False)))

    def part_sent(self, notice_id: int, parts: int, via: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(citizen_notices.update().where(citizen_notices.c.id == notice_id)
                         .values(sent_parts=parts, sent_via=via))

    def sent(self, notice_id: int, via: str) -> None:
        work_queue.finish(self.engine, citizen_notices, notice_id, self.owner, state="sent", sent_via=via,
                          sent_at=clock.now_utc(), last_error=None)

    def retry(self, notice_id: int, seconds: float, error: str) -> None:
        work_queue.retry_after(self.engine, citizen_notices, notice_id, self.owner, seconds, last_error=error[:500])

    def failed(self, notice_id: int, error: str) -> None:
        work_queue.finish(self.engine, citizen_notices, notice_id, self.owner, state="failed", last_error=error[:500])

    def oldest_pending_for(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The notice being composed for this citizen now (they are sent one at a time, in order)."""
        with self.engine.connect() as conn:
            row = conn.execute(citizen_notices.select().where(
                citizen_notices.c.sender_id == sender_id, citizen_notices.c.state == "pending")
                .order_by(citizen_notices.c.id).limit(1)).mappings().first()
        return dict(row) if row else None

    def queue_overdue(self, today: Optional[dt.date] = None) -> int:
        """Queue the overdue notice of every application past its due date (an Indian date)
        and undecided, once per application. How many were queued."""
        today = today or clock.today_ist()
        noticed = sa.select(citizen_notices.c.id).where(
            citizen_notices.c.application_id == applications.c.id, citizen_notices.c.kind == "overdue")
        query = (sa.select(applications.c.id, applications.c.sender_id)
                 .where(applications.c.due_date < today, applications.c.status.not_in(FINAL_STATUSES),
                        ~sa.exists(noticed))
                 .order_by(applications.c.id).limit(OVERDUE_BATCH))
        queued = 0
        with self.engine.begin() as conn:
            for app_id, sender in conn.execute(query).all():
                try:
                    with conn.begin_nested():  # another instance may queue it at the same moment
                        now = clock.now_utc()
                        conn.execute(citizen_notices.insert().values(
                            application_id=app_id, sender_id=sender, kind="overdue", history_id=None,
                            dedupe_key=f"overdue:{app_id}", state="pending", attempts=0, sent_parts=0,
                            next_attempt_at=now, created_at=now))
                    queued += 1
                except IntegrityError:
                    continue
        if queued:
            logger.info("queued %d overdue notice(s)", queued)
        return queued

    def all(self, limit: int = 50) -> List[Dict[str, Any]]:
        """For operators: the latest notices with their application's reference."""
        query = (sa.select(applications.c.reference, citizen_notices)
                 .join(applications, applications.c.id == citizen_notices.c.application_id)
                 .order_by(citizen_notices.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
