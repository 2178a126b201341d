"""Delivering submitted applications to the department's system: the outbox, worked off.

``Store.submit`` writes the application and its ``department_deliveries`` row in one
transaction; here any instance takes due rows (seva/work_queue.py) and POSTs each as the
contract in DESIGN.md says: ``POST {url}/applications``, JSON, ``Idempotency-Key: <reference>``
and ``X-Seva-Signature: sha256=<HMAC of the raw body>``.

- any 2xx: delivered (the department's own reference kept when it sends one);
- 5xx, 429, a timeout or no connection: tried again with exponential backoff and jitter
  (``Retry-After`` honoured), for as long as it takes — the department may be down for a
  day; the Idempotency-Key makes a repeat of a delivery the department did get harmless;
- any other 4xx: the department refuses this application as it is. Sending it again
  would be refused again, so it is marked failed for an operator
  (``python -m seva.officer deliveries``; ``redeliver`` once the cause is fixed).

Configuration: ``DEPARTMENT_API_URL`` (every department) or ``DEPARTMENT_API_URL_<ID>``
for one department of the catalog (e.g. ``DEPARTMENT_API_URL_REVENUE``), and
``DEPARTMENT_API_SECRET``; ``DEPARTMENT_TIMEOUT_SECONDS`` (10) bounds one attempt. Without
a URL the rows wait (a warning says so) and are delivered once one is configured.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import requests
import sqlalchemy as sa

from seva import clock, signing, work_queue
from seva.catalog import Catalog
from seva.document_store import digest_of
from seva.privacy import mask_phone
from seva.store import Application, Document, Store, _application, applications, department_deliveries

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # longer than one POST can take (TIMEOUT_SECONDS)
TIMEOUT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0


@dataclass(frozen=True)
class Delivery:
    """An application's delivery as operators and the citizen's status reply see it."""

    reference: str
    service_id: str
    state: str  # pending, delivered, failed
    attempts: int
    last_status: Optional[int]
    last_error: Optional[str]
    department_reference: Optional[str]
    next_attempt_at: dt.datetime
    delivered_at: Optional[dt.datetime]


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: ``state`` delivered / retry / failed."""

    state: str
    status: int
    detail: str = ""
    department_reference: Optional[str] = None
    retry_after: Optional[float] = None


def department_url(department_id: str) -> Optional[str]:
    """The department's API base URL: its own variable, else the common one, else None."""
    own = os.environ.get(f"DEPARTMENT_API_URL_{department_id.upper()}")
    return (own or os.environ.get("DEPARTMENT_API_URL") or "").rstrip("/") or None


def request_body(application: Application, catalog: Catalog, documents: Sequence[Document] = ()) -> Dict[str, Any]:
    """The JSON the department receives (DESIGN.md names the required keys). ``documents``
    are described by their content hash, kind and the question they answer; the bytes are
    fetched from the document store (docs/operations.md)."""
    service = catalog.get(application.service_id)
    return {
        "reference": application.reference,
        "service_id": application.service_id,
        "service_name": service.name("en") if service else None,
        "department": service.department if service else None,
        "submitted_at": clock.to_ist(application.submitted_at).isoformat(),
        "language": application.language,
        "applicant": {"whatsapp_number": application.sender_id},
        "answers": application.fields,
        "documents": [document_entry(d) for d in documents],
        "time_limit_days": application.time_limit_days,
        "due_date": application.due_date.isoformat() if application.due_date else None,
    }


def document_entry(document: Document) -> Dict[str, Any]:
    return {"sha256": digest_of(document.key), "question": document.field_id, "kind": document.kind,
            "media_type": document.media_type, "size": document.size, "pages": document.pages}


def post(url: str, body: Dict[str, Any], secret: str, timeout: Optional[float] = None) -> Outcome:
    """One signed POST, classified. Never raises for what the network or the department does."""
    timeout = timeout or float(os.environ.get("DEPARTMENT_TIMEOUT_SECONDS", TIMEOUT_SECONDS))
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": body["reference"],
               signing.HEADER: signing.sign(raw, secret)}
    try:
        response = requests.post(f"{url}/applications", data=raw, headers=headers, timeout=timeout)
    except requests.Timeout:
        return Outcome("retry", 0, "timed out")
    except requests.RequestException as error:
        return Outcome("retry", 0, f"no connection ({error.__class__.__name__})")
    status = response.status_code
    if 200 <= status < 300:
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        reference = answer.get("department_reference") if isinstance(answer, dict) else None
        return Outcome("delivered", status, department_reference=str(reference)[:100] if reference else None)
    detail = " ".join(response.text.split())[:300]
    if status == 429 or status >= 500:
        header = response.headers.get("Retry-After", "")
        retry_after = float(header) if header.replace(".", "", 1).isdigit() else None
        return Outcome("retry", status, detail, retry_after=retry_after)
    return Outcome("failed", status, detail)  # 4xx (and 1xx/3xx): refused as it is


def backoff(attempts: int, retry_after: Optional[float] = None) -> float:
    """Seconds before the next attempt: doubling from BACKOFF_BASE_SECONDS ("equal jitter"),
    at most BACKOFF_CAP_SECONDS, at least what the department asked for."""
    base = float(os.environ.get("DEPARTMENT_RETRY_BASE_SECONDS", BACKOFF_BASE_SECONDS))
    ceiling = min(BACKOFF_CAP_SECONDS, base * 2 ** max(attempts - 1, 0))
    wait = random.uniform(ceiling / 2, ceiling)
    return max(wait, retry_after or 0.0)


class DeliveryQueue:
    """The outbox table of the application store, and the work of emptying it."""

    def __init__(self, store: Store, catalog: Catalog, secret: Optional[str] = None):
        self.store = store
        self.engine = store.engine
        self.catalog = catalog
        self.secret = secret if secret is not None else os.environ.get("DEPARTMENT_API_SECRET", "")
        self.owner = work_queue.owner_name()
        self._warned_unconfigured = False

    def deliver_due(self, limit: int = 10) -> int:
        """Try every due delivery once (blocking: call it from a worker thread). How many were tried."""
        rows = work_queue.take(self.engine, department_deliveries, self.owner, limit=limit,
                               lease_seconds=LEASE_SECONDS)
        for row in rows:
            self._attempt(row)
        return len(rows)

    def _attempt(self, row: Dict[str, Any]) -> None:
        with self.engine.connect() as conn:
            app_row = conn.execute(applications.select().where(
                applications.c.id == row["application_id"])).mappings().one()
        application = _application(app_row)
        service = self.catalog.get(application.service_id)
        url = department_url(service.department if service else "")
        if not url or not self.secret:
            if not self._warned_unconfigured:
                logger.warning("department deliveries wait: set DEPARTMENT_API_URL and DEPARTMENT_API_SECRET")
                self._warned_unconfigured = True
            work_queue.retry_after(self.engine, department_deliveries, row["id"], self.owner, 30.0,
                                   attempts=row["attempts"] - 1, last_error="not configured")
            return
        documents = self.store.documents(application.reference)
        outcome = post(url, request_body(application, self.catalog, documents), self.secret)
        now = clock.now_utc()
        if outcome.state == "delivered":
            work_queue.finish(self.engine, department_deliveries, row["id"], self.owner, state="delivered",
                              delivered_at=now, last_status=outcome.status, last_error=None,
                              department_reference=outcome.department_reference)
            logger.info("delivered %s to the department (attempt %d)", application.reference, row["attempts"])
        elif outcome.state == "retry":
            wait = backoff(row["attempts"], outcome.retry_after)
            work_queue.retry_after(self.engine, department_deliveries, row["id"], self.owner, wait,
                                   last_status=outcome.status, last_error=outcome.detail or None)
            logger.info("delivery of %s: HTTP %s %s; again in %.0f s (attempt %d)", application.reference,
                        outcome.status or "-", outcome.detail[:80], wait, row["attempts"])
        else:
            work_queue.finish(self.engine, department_deliveries, row["id"], self.owner, state="failed",
                              last_status=outcome.status, last_error=outcome.detail or None)
            logger.error("delivery of %s (from %s) refused by the department: HTTP %s %s — see "
                         "`python -m seva.officer deliveries`", application.reference,
                         mask_phone(application.sender_id), outcome.status, outcome.detail[:200])

    # -- reading -----------------------------------------------------------------------
    def _query(self):
        return (sa.select(applications.c.reference, applications.c.service_id, department_deliveries)
                .join(applications, applications.c.id == department_deliveries.c.application_id))

    def of(self, reference: str) -> Optional[Delivery]:
        """The delivery of one application (the caller has checked who may see it)."""
        with self.engine.connect() as conn:
            row = conn.execute(self._query().where(applications.c.reference == reference)).mappings().first()
        return _delivery(row) if row else None

    def all(self, state: Optional[str] = None, limit: int = 100) -> List[Delivery]:
        query = self._query().order_by(department_deliveries.c.id.desc()).limit(limit)
        if state:
            query = query.where(department_deliveries.c.state == state)
        with self.engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(query).mappings()]

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(department_deliveries).where(
                department_deliveries.c.state == "pending")).scalar_one()

    def redeliver(self, reference: str) -> bool:
        """An operator fixed why the department refused it: try again now. False if not failed."""
        app_id = sa.select(applications.c.id).where(applications.c.reference == reference).scalar_subquery()
        with self.engine.begin() as conn:
            result = conn.execute(department_deliveries.update().where(
                department_deliveries.c.application_id == app_id, department_deliveries.c.state == "failed")
                .values(state="pending", next_attempt_at=clock.now_utc(), lease_owner=None, lease_until=None))
        return result.rowcount == 1


def _delivery(row) -> Delivery:
    return Delivery(row["reference"], row["service_id"], row["state"], row["attempts"], row["last_status"],
                    row["last_error"], row["department_reference"], row["next_attempt_at"], row["delivered_at"])
