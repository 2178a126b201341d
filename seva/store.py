"""The application store: applications, their status history and grievances.

SQLAlchemy Core over SQLite by default (``APP_DB_URL`` selects PostgreSQL or another
database). Two rules live here rather than in the actions so nothing can bypass them:
- submitting is idempotent per (sender, draft): a retried or repeated "yes" returns the
  application already made instead of creating a second one;
- every read takes the sender: an application is only ever found by the number that made it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seva import clock, reference
from seva.db import UTCDateTime, create_tables, database_url, make_engine
from seva.storage import prepare_sqlite_folder

STATUSES = ("submitted", "in_progress", "approved", "rejected")
FINAL_STATUSES = ("approved", "rejected")



metadata = sa.MetaData()
applications = sa.Table(
    "applications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(20), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(64), nullable=False, index=True),
    sa.Column("draft_id", sa.String(64), nullable=False),
    sa.Column("service_id", sa.String(100), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("time_limit_days", sa.Integer, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.UniqueConstraint("sender_id", "draft_id", name="uq_application_draft"),
)
status_history = sa.Table(
    "status_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("changed_by", sa.String(64), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
)
grievances = sa.Table(
    "grievances", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(20), nullable=False, unique=True),
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("sender_id", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class Application:
    reference: str
    sender_id: str
    service_id: str
    language: str
    fields: Dict[str, Any]
    status: str
    submitted_at: dt.datetime  # aware UTC
    time_limit_days: Optional[int]
    due_date: Optional[dt.date]  # an Indian date: the submission day in IST + the time limit

    @property
    def submitted_on(self) -> dt.date:
        """The day of submission in India (day 1 of the time limit)."""
        return clock.ist_date(self.submitted_at)

    def day_of(self, today: dt.date) -> int:
        """Which day of the time limit ``today`` (an Indian date) is; submission day is day 1."""
        return (today - self.submitted_on).days + 1

    def overdue(self, today: dt.date) -> bool:
        """Past the due date on ``today`` (an Indian date: ``clock.today_ist()``) and not decided."""
        return self.due_date is not None and today > self.due_date and self.status not in FINAL_STATUSES


@dataclass(frozen=True)
class StatusChange:
    status: str
    note: Optional[str]
    changed_by: str
    changed_at: dt.datetime


new_reference = reference.new  # the format is defined in seva/reference.py
normalise_reference = reference.normalise


def due_date(submitted_at: dt.datetime, time_limit_days: Optional[int]) -> Optional[dt.date]:
    """The ORTPSA due date: the submission day in India plus the time limit in days."""
    if not time_limit_days:
        return None
    return clock.ist_date(submitted_at) + dt.timedelta(days=time_limit_days)


def _now(now: Optional[dt.datetime] = None) -> dt.datetime:
    """``now`` (any aware or naive-UTC instant) or the clock's, as aware UTC to the second."""
    return clock.as_utc(now).replace(microsecond=0) if now is not None else clock.now_utc()


class Store:
    def __init__(self, url: Optional[str] = None):
        prepare_sqlite_folder(database_url(url), "the application store (APP_DB_URL)")
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)

    # -- applications -------------------------------------------------------------------
    def submit(self, *, sender_id: str, draft_id: str, service_id: str, language: str,
               fields: Dict[str, Any], time_limit_days: Optional[int],
               now: Optional[dt.datetime] = None) -> Application:
        """Create the application for this draft, or return the one already created."""
        existing = self._by_draft(sender_id, draft_id)
        if existing:
            return existing
        now = _now(now)
        due = due_date(now, time_limit_days)
        for _ in range(5):
            reference = new_reference()
            try:
                with self.engine.begin() as conn:
                    result = conn.execute(applications.insert().values(
                        reference=reference, sender_id=sender_id, draft_id=draft_id,
                        service_id=service_id, language=language,
                        fields=json.dumps(fields, ensure_ascii=False), status="submitted",
                        submitted_at=now, time_limit_days=time_limit_days, due_date=due,
                    ))
                    conn.execute(status_history.insert().values(
                        application_id=result.inserted_primary_key[0], status="submitted",
                        note=None, changed_by="citizen", changed_at=now,
                    ))
            except IntegrityError:
                existing = self._by_draft(sender_id, draft_id)
                if existing:  # a concurrent retry of the same submit won the race
                    return existing
                continue  # reference collision: draw again
            return self._by_draft(sender_id, draft_id)  # type: ignore[return-value]
        raise RuntimeError("could not allocate a unique reference")

    def _by_draft(self, sender_id: str, draft_id: str) -> Optional[Application]:
        query = applications.select().where(
            applications.c.sender_id == sender_id, applications.c.draft_id == draft_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _application(row) if row else None

    def find(self, reference: str, sender_id: str) -> Optional[Application]:
        """The application with this reference, only if ``sender_id`` made it."""
        query = applications.select().where(
            applications.c.reference == normalise_reference(reference),
            applications.c.sender_id == sender_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _application(row) if row else None

    def for_sender(self, sender_id: str, limit: int = 5) -> List[Application]:
        query = (applications.select().where(applications.c.sender_id == sender_id)
                 .order_by(applications.c.submitted_at.desc(), applications.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [_application(row) for row in conn.execute(query).mappings()]

    def all(self, status: Optional[str] = None, limit: int = 100) -> List[Application]:
        """For officers: every application, newest first."""
        query = applications.select().order_by(applications.c.id.desc()).limit(limit)
        if status:
            query = query.where(applications.c.status == status)
        with self.engine.connect() as conn:
            return [_application(row) for row in conn.execute(query).mappings()]

    def set_status(self, reference: str, status: str, note: Optional[str] = None,
                   changed_by: str = "officer", now: Optional[dt.datetime] = None) -> Application:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        now = _now(now)
        with self.engine.begin() as conn:
            row = conn.execute(applications.select().where(
                applications.c.reference == normalise_reference(reference))).mappings().first()
            if row is None:
                raise KeyError(f"no application {reference!r}")
            conn.execute(applications.update().where(applications.c.id == row["id"]).values(status=status))
            conn.execute(status_history.insert().values(
                application_id=row["id"], status=status, note=note, changed_by=changed_by, changed_at=now))
        return self.find(row["reference"], row["sender_id"])  # type: ignore[return-value]

    def history(self, reference: str, sender_id: str) -> List[StatusChange]:
        query = (sa.select(status_history).join(applications)
                 .where(applications.c.reference == normalise_reference(reference),
                        applications.c.sender_id == sender_id)
                 .order_by(status_history.c.id))
        with self.engine.connect() as conn:
            return [StatusChange(r["status"], r["note"], r["changed_by"], r["changed_at"])
                    for r in conn.execute(query).mappings()]

    # -- grievances ---------------------------------------------------------------------
    def add_grievance(self, reference: str, sender_id: str, text: str,
                      now: Optional[dt.datetime] = None) -> Optional[str]:
        """Record a complaint on the sender's own application; its reference, or None."""
        application = self.find(reference, sender_id)
        if application is None:
            return None
        with self.engine.begin() as conn:
            app_id = conn.execute(sa.select(applications.c.id).where(
                applications.c.reference == application.reference)).scalar_one()
            for _ in range(5):
                grievance_ref = new_reference("GRV")
                try:
                    with conn.begin_nested():
                        conn.execute(grievances.insert().values(
                            reference=grievance_ref, application_id=app_id, sender_id=sender_id,
                            text=text[:2000], created_at=_now(now)))
                    return grievance_ref
                except IntegrityError:
                    continue
        raise RuntimeError("could not allocate a unique grievance reference")

    def grievances_for(self, reference: str, sender_id: str) -> List[Dict[str, Any]]:
        query = (sa.select(grievances.c.reference, grievances.c.text, grievances.c.created_at)
                 .join(applications)
                 .where(applications.c.reference == normalise_reference(reference),
                        applications.c.sender_id == sender_id, grievances.c.sender_id == sender_id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _application(row) -> Application:
    return Application(
        reference=row["reference"], sender_id=row["sender_id"], service_id=row["service_id"],
        language=row["language"], fields=json.loads(row["fields"]), status=row["status"],
        submitted_at=row["submitted_at"], time_limit_days=row["time_limit_days"], due_date=row["due_date"],
    )


_STORES: Dict[str, Store] = {}


def default_store() -> Store:
    """One store per database URL for the running process."""
    url = database_url()
    if url not in _STORES:
        _STORES[url] = Store(url)
    return _STORES[url]
