"""The application store: applications, their status history and grievances.

SQLAlchemy Core over SQLite by default (``APP_DB_URL`` selects PostgreSQL or another
database). The rules live here rather than in the actions so nothing can bypass them:
- submitting is idempotent per (sender, draft): a retried or repeated "yes" returns the
  application already made instead of creating a second one;
- every read takes the sender: an application is only ever found by the number that made it;
- an application and its delivery to the department are written in one transaction (the
  transactional outbox, seva/deliveries.py): nothing submitted is left undelivered;
- a status change (from the department's webhook or the officer tool, one code path) is
  kept once however often it is posted, and the notice to the citizen is queued in the
  same transaction (seva/notices.py sends it): told once, never lost.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seva import clock, reference, working_days
from seva.db import UTCDateTime, add_missing_columns, create_tables, database_url, make_engine
from seva.storage import prepare_sqlite_folder

STATUSES = ("submitted", "received", "in_progress", "documents_needed", "approved", "rejected")
DEPARTMENT_STATUSES = STATUSES[1:]  # what the department may post (DESIGN.md)
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
    # added with the department loop (add_missing_columns fills them in on older databases)
    sa.Column("certificate_url", sa.Text, nullable=True),
    sa.Column("documents_requested", sa.Text, nullable=True),  # JSON list of strings
    sa.Column("change_key", sa.String(64), nullable=True),  # sha256 of the change: posted twice, kept once
    sa.Index("uq_status_change", "application_id", "change_key", unique=True),
)
department_deliveries = sa.Table(  # the outbox: one row per application (seva/deliveries.py)
    "department_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False, unique=True),
    sa.Column("state", sa.String(12), nullable=False),  # pending, delivered, failed (a 4xx: an operator looks)
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),  # HTTP status of the last attempt (0: no answer)
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("department_reference", sa.String(100), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Index("ix_department_deliveries_due", "state", "next_attempt_at"),
)
citizen_notices = sa.Table(  # messages the citizen is owed without asking (seva/notices.py)
    "citizen_notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("sender_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False),  # status, overdue
    sa.Column("history_id", sa.Integer, sa.ForeignKey("status_history.id"), nullable=True),
    sa.Column("dedupe_key", sa.String(100), nullable=False, unique=True),  # one notice per change / per overdue
    sa.Column("state", sa.String(12), nullable=False),  # pending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("rendered", sa.Text, nullable=True),  # the messages Rasa composed (JSON), kept for a retry
    sa.Column("sent_via", sa.String(12), nullable=True),  # free_form, template
    sa.Column("sent_parts", sa.Integer, nullable=False, default=0),  # messages of it already sent
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Index("ix_citizen_notices_due", "state", "next_attempt_at"),
)
application_documents = sa.Table(  # documents a citizen sent for an application (issue 19)
    "application_documents", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False, index=True),
    # the catalog question it answers; None: sent later, when the department asked for documents
    sa.Column("field_id", sa.String(100), nullable=True),
    sa.Column("key", sa.String(80), nullable=False),  # sha256:<hex> in the document store
    sa.Column("kind", sa.String(8), nullable=False),  # photo, pdf
    sa.Column("media_type", sa.String(40), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("pages", sa.Integer, nullable=False, default=1),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("application_id", "key", name="uq_application_document"),
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
    due_date: Optional[dt.date]  # an Indian date: the time limit in working days after submission

    @property
    def submitted_on(self) -> dt.date:
        """The day of submission in India (the day of receipt, not counted)."""
        return clock.ist_date(self.submitted_at)

    def day_of(self, today: dt.date) -> int:
        """Which working day of the time limit ``today`` (an Indian date) is: 0 on the day of
        submission, 1 on the next working day (seva/working_days.py)."""
        return working_days.default_calendar().working_day_number(self.submitted_on, today)

    @property
    def due_date_exact(self) -> bool:
        """Whether the due date is exact: every day it counts is in a complete holiday table."""
        if not self.time_limit_days:
            return False
        return working_days.default_calendar().due_date(self.submitted_on, self.time_limit_days).exact

    def overdue(self, today: dt.date) -> bool:
        """Past the due date on ``today`` (an Indian date: ``clock.today_ist()``) and not decided."""
        return self.due_date is not None and today > self.due_date and self.status not in FINAL_STATUSES


@dataclass(frozen=True)
class StatusChange:
    status: str
    note: Optional[str]
    changed_by: str
    changed_at: dt.datetime
    certificate_url: Optional[str] = None
    documents_requested: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """What ``change_status`` did: the application after it, and whether the change was new
    (False: the same change had been posted before, and nothing changed)."""

    application: Application
    new: bool


@dataclass(frozen=True)
class Document:
    """A checked document kept in the document store (seva/documents.py, seva/document_store.py)
    and linked to an application: ``key`` is ``sha256:<hex>`` of the stored bytes."""

    key: str
    kind: str  # "photo" | "pdf"
    media_type: str
    size: int
    pages: int = 1
    field_id: Optional[str] = None  # the catalog question it answers; None: sent when asked
    added_at: Optional[dt.datetime] = None  # set by the store


new_reference = reference.new  # the format is defined in seva/reference.py
normalise_reference = reference.normalise


def due_date(submitted_at: dt.datetime, time_limit_days: Optional[int]) -> Optional[dt.date]:
    """The ORTPSA due date: the time limit's last working day after the day of submission in
    India (public holidays not counted, seva/working_days.py)."""
    if not time_limit_days:
        return None
    return working_days.default_calendar().due_date(clock.ist_date(submitted_at), time_limit_days).date


def _now(now: Optional[dt.datetime] = None) -> dt.datetime:
    """``now`` (any aware or naive-UTC instant) or the clock's, as aware UTC to the second."""
    return clock.as_utc(now).replace(microsecond=0) if now is not None else clock.now_utc()


class Store:
    def __init__(self, url: Optional[str] = None):
        prepare_sqlite_folder(database_url(url), "the application store (APP_DB_URL)")
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        add_missing_columns(metadata, self.engine)

    # -- applications -------------------------------------------------------------------
    def submit(self, *, sender_id: str, draft_id: str, service_id: str, language: str,
               fields: Dict[str, Any], time_limit_days: Optional[int],
               documents: Sequence[Document] = (), now: Optional[dt.datetime] = None) -> Application:
        """Create the application for this draft, or return the one already created.
        ``documents`` (answers to the form's document questions) are linked to it in the same
        transaction, so the department's delivery always carries them."""
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
                    app_id = result.inserted_primary_key[0]
                    conn.execute(status_history.insert().values(
                        application_id=app_id, status="submitted",
                        note=None, changed_by="citizen", changed_at=now,
                    ))
                    for document in _distinct(documents):
                        conn.execute(application_documents.insert().values(
                            application_id=app_id, added_at=now, **_document_values(document)))
                    conn.execute(department_deliveries.insert().values(  # delivered by seva/deliveries.py
                        application_id=app_id, state="pending", attempts=0, next_attempt_at=now, created_at=now))
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

    def application_by_id(self, application_id: int, sender_id: str) -> Optional[Application]:
        """By row id (a notice names its application), only if ``sender_id`` made it."""
        with self.engine.connect() as conn:
            row = conn.execute(applications.select().where(
                applications.c.id == application_id, applications.c.sender_id == sender_id)).mappings().first()
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

    def change_status(self, reference: str, status: str, note: Optional[str] = None, *,
                      changed_by: str = "officer", changed_at: Optional[dt.datetime] = None,
                      certificate_url: Optional[str] = None,
                      documents_requested: Sequence[str] = ()) -> Recorded:
        """Record a status change (the department's webhook and the officer tool both come here).

        The same change posted again (same status, note, link, documents and time) is kept
        once: ``Recorded.new`` is False and nothing else happens. A new change is added to
        the history, becomes the application's status unless a later change is already
        recorded (changes can arrive out of order), and queues a notice to the citizen in the
        same transaction. KeyError for an unknown reference, ValueError for an unknown status."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        changed_at = _now(changed_at)
        documents = [" ".join(str(d).split()) for d in documents_requested if str(d).strip()]
        note = " ".join(note.split()) if note and note.strip() else None
        key = _change_key(status, note, certificate_url, documents, changed_at)
        with self.engine.begin() as conn:
            row = conn.execute(applications.select().where(
                applications.c.reference == normalise_reference(reference))).mappings().first()
            if row is None:
                raise KeyError(f"no application {reference!r}")
            try:
                with conn.begin_nested():
                    history_id = conn.execute(status_history.insert().values(
                        application_id=row["id"], status=status, note=note, changed_by=changed_by[:64],
                        changed_at=changed_at, certificate_url=certificate_url,
                        documents_requested=json.dumps(documents, ensure_ascii=False) if documents else None,
                        change_key=key)).inserted_primary_key[0]
            except IntegrityError:  # posted before: stored once, the citizen told once
                return Recorded(_application(row), new=False)
            later = conn.execute(sa.select(sa.func.count()).select_from(status_history).where(
                status_history.c.application_id == row["id"], status_history.c.changed_at > changed_at,
                status_history.c.status != "submitted",  # the department's clock may be behind ours
                status_history.c.id != history_id)).scalar_one()
            if not later:
                conn.execute(applications.update().where(applications.c.id == row["id"]).values(status=status))
                conn.execute(citizen_notices.insert().values(
                    application_id=row["id"], sender_id=row["sender_id"], kind="status", history_id=history_id,
                    dedupe_key=f"status:{history_id}", state="pending", attempts=0, sent_parts=0,
                    next_attempt_at=clock.now_utc(), created_at=clock.now_utc()))
        return Recorded(self.find(row["reference"], row["sender_id"]), new=True)  # type: ignore[arg-type]

    def set_status(self, reference: str, status: str, note: Optional[str] = None,
                   changed_by: str = "officer", now: Optional[dt.datetime] = None) -> Application:
        """``change_status`` for callers that only need the application after it."""
        return self.change_status(reference, status, note, changed_by=changed_by, changed_at=now).application

    def history(self, reference: str, sender_id: str) -> List[StatusChange]:
        query = (sa.select(status_history).join(applications)
                 .where(applications.c.reference == normalise_reference(reference),
                        applications.c.sender_id == sender_id)
                 .order_by(status_history.c.changed_at, status_history.c.id))
        with self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def change(self, history_id: int) -> Optional[StatusChange]:
        """One recorded change, by its id (a notice names the change it tells about)."""
        with self.engine.connect() as conn:
            row = conn.execute(status_history.select().where(status_history.c.id == history_id)).mappings().first()
        return _change(row) if row else None

    def by_reference(self, reference: str) -> Optional[Application]:
        """For the department and officers, who may see every application: by reference alone.
        Never call this with a reference a citizen typed (``find`` takes the sender)."""
        with self.engine.connect() as conn:
            row = conn.execute(applications.select().where(
                applications.c.reference == normalise_reference(reference))).mappings().first()
        return _application(row) if row else None

    # -- documents ----------------------------------------------------------------------
    def attach_document(self, reference: str, sender_id: str, document: Document,
                        now: Optional[dt.datetime] = None) -> Optional[bool]:
        """Link a document the citizen sent after submitting (the department asked for it) to
        their own application. True when linked, False when it was already there (the same
        bytes twice), None when ``sender_id`` has no such application or it is decided."""
        application = self.find(reference, sender_id)
        if application is None or application.status in FINAL_STATUSES:
            return None
        with self.engine.begin() as conn:
            app_id = conn.execute(sa.select(applications.c.id).where(
                applications.c.reference == application.reference)).scalar_one()
            try:
                with conn.begin_nested():
                    conn.execute(application_documents.insert().values(
                        application_id=app_id, added_at=_now(now), **_document_values(document)))
            except IntegrityError:
                return False
        return True

    def documents(self, reference: str, sender_id: Optional[str] = None) -> List[Document]:
        """The documents linked to an application, oldest first. With ``sender_id`` only that
        citizen's own application's (the bot); without it any (officers, the department)."""
        query = (sa.select(application_documents).join(applications)
                 .where(applications.c.reference == normalise_reference(reference))
                 .order_by(application_documents.c.added_at, application_documents.c.id))
        if sender_id is not None:
            query = query.where(applications.c.sender_id == sender_id)
        with self.engine.connect() as conn:
            return [_document(r) for r in conn.execute(query).mappings()]

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

    def submitted_drafts(self, limit: int = 100000) -> Dict[Tuple[str, str], str]:
        """For the designers' review: (sender, draft) of every submitted application → its
        service, so a conversation's form can be matched to what it produced."""
        query = (sa.select(applications.c.sender_id, applications.c.draft_id, applications.c.service_id)
                 .order_by(applications.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return {(r.sender_id, r.draft_id): r.service_id for r in conn.execute(query)}

    def recent_grievances(self, limit: int = 500) -> List[Dict[str, Any]]:
        """For the designers' review (review/): who complained about which application, when;
        newest first. The complaint's text stays here: the review page never shows it."""
        query = (sa.select(grievances.c.reference, grievances.c.sender_id, grievances.c.created_at,
                           applications.c.reference.label("application"), applications.c.service_id)
                 .join(applications).order_by(grievances.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def grievances_for(self, reference: str, sender_id: str) -> List[Dict[str, Any]]:
        query = (sa.select(grievances.c.reference, grievances.c.text, grievances.c.created_at)
                 .join(applications)
                 .where(applications.c.reference == normalise_reference(reference),
                        applications.c.sender_id == sender_id, grievances.c.sender_id == sender_id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _change_key(status: str, note: Optional[str], certificate_url: Optional[str], documents: List[str],
                changed_at: dt.datetime) -> str:
    """The identity of a status change: the same fields at the same time are the same change."""
    fields = [status, note, certificate_url, documents, clock.as_utc(changed_at).isoformat()]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def _change(row) -> StatusChange:
    documents = json.loads(row["documents_requested"]) if row["documents_requested"] else []
    return StatusChange(row["status"], row["note"], row["changed_by"], row["changed_at"],
                        row["certificate_url"], tuple(documents))


def _distinct(documents: Sequence[Document]) -> List[Document]:
    """One of each stored object: the same photo answering two questions is linked once."""
    seen: Dict[str, Document] = {}
    for document in documents:
        seen.setdefault(document.key, document)
    return list(seen.values())


def _document_values(document: Document) -> Dict[str, Any]:
    if document.kind not in ("photo", "pdf"):
        raise ValueError(f"unknown document kind {document.kind!r}")
    return {"field_id": document.field_id, "key": document.key, "kind": document.kind,
            "media_type": document.media_type, "size": int(document.size), "pages": int(document.pages or 1)}


def _document(row) -> Document:
    return Document(key=row["key"], kind=row["kind"], media_type=row["media_type"], size=row["size"],
                    pages=row["pages"], field_id=row["field_id"], added_at=row["added_at"])


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
