"""The department loop below the Rasa server: outbox delivery, status changes, notices, the overdue scan."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import sqlalchemy as sa

from channels import customer_window
from channels.department import BadChange, parse_change
from fakedepartment.server import FakeDepartment
from seva import clock, signing
from seva.catalog import default_catalog
from seva.deliveries import DeliveryQueue, request_body
from seva.notices import NoticeQueue
from seva.store import Store, citizen_notices, department_deliveries, status_history

SECRET = "department-secret"
SENDER = "919437000123"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The store on SQLite (make run) and on PostgreSQL (make cluster: savepoints, row locks)."""
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'apps.db'}")
    return Store(request.getfixturevalue("postgres_db"))


@pytest.fixture
def department(monkeypatch):
    fake = FakeDepartment(SECRET).start()
    monkeypatch.setenv("DEPARTMENT_API_URL", fake.base_url)
    monkeypatch.setenv("DEPARTMENT_RETRY_BASE_SECONDS", "0")  # retries due at once
    yield fake
    fake.stop()


def submit(store, draft="d1", days=15, now=None, sender=SENDER):
    return store.submit(sender_id=sender, draft_id=draft, service_id="income_certificate", language="or",
                        fields={"applicant_name": "ରମେଶ ସାହୁ"}, time_limit_days=days, now=now)


def deliveries(store):
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(department_deliveries.select()).mappings()]


def notices(store):
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(citizen_notices.select().order_by(citizen_notices.c.id)).mappings()]


# --------------------------------------------------------------------- delivery
def test_a_submitted_application_is_delivered_signed_once(store, department):
    app = submit(store)
    assert [d["state"] for d in deliveries(store)] == ["pending"]  # written with the application
    queue = DeliveryQueue(store, default_catalog(), SECRET)
    assert queue.deliver_due() == 1
    body = department.deliveries[app.reference]
    assert body["answers"] == {"applicant_name": "ରମେଶ ସାହୁ"} and body["language"] == "or"
    assert dt.datetime.fromisoformat(body["submitted_at"]).utcoffset() == dt.timedelta(hours=5, minutes=30)
    status, key, _, _ = department.attempts[0]
    assert status == 201 and key == app.reference
    delivered = queue.of(app.reference)
    assert delivered.state == "delivered" and delivered.department_reference.startswith("DEPT-")
    assert queue.deliver_due() == 0 and len(department.attempts) == 1  # nothing left to send
    assert submit(store).reference == app.reference and len(deliveries(store)) == 1  # a repeated "yes"


def test_server_errors_and_throttling_are_retried_until_delivered(store, department):
    app = submit(store)
    department.fail("500", 2)
    department.fail("429")
    queue = DeliveryQueue(store, default_catalog(), SECRET)
    for _ in range(3):
        queue.deliver_due()
        assert queue.of(app.reference).state == "pending"
    throttled = queue.of(app.reference)
    assert throttled.last_status == 429
    # the fake's Retry-After (1 s) is honoured over the (zero) backoff
    assert throttled.next_attempt_at >= clock.now_utc_precise() + dt.timedelta(seconds=0.5)
    assert queue.deliver_due() == 0
    time.sleep(1.1)
    queue.deliver_due()
    assert queue.of(app.reference).state == "delivered"
    assert [a[0] for a in department.attempts] == [500, 500, 429, 201]
    assert {a[1] for a in department.attempts} == {app.reference}  # one Idempotency-Key throughout
    assert list(department.deliveries) == [app.reference]


def test_a_refusal_is_not_retried_until_an_operator_asks(store, department):
    app = submit(store)
    department.fail("400")
    queue = DeliveryQueue(store, default_catalog(), SECRET)
    queue.deliver_due()
    failed = queue.of(app.reference)
    assert failed.state == "failed" and failed.last_status == 400 and failed.last_error
    assert queue.deliver_due() == 0 and len(department.attempts) == 1
    assert queue.pending_count() == 0
    assert queue.redeliver(app.reference) and not queue.redeliver(app.reference)
    queue.deliver_due()
    assert queue.of(app.reference).state == "delivered"


def test_a_department_that_does_not_answer_is_tried_again(store, department, monkeypatch):
    monkeypatch.setenv("DEPARTMENT_TIMEOUT_SECONDS", "0.5")
    app = submit(store)
    department.fail("hang", delay=3)
    queue = DeliveryQueue(store, default_catalog(), SECRET)
    queue.deliver_due()
    assert queue.of(app.reference).state == "pending" and queue.of(app.reference).last_error == "timed out"


def test_a_wrong_secret_is_a_refusal_the_operator_sees(store, department):
    app = submit(store)
    DeliveryQueue(store, default_catalog(), "not-the-secret").deliver_due()
    assert DeliveryQueue(store, default_catalog(), SECRET).of(app.reference).last_status == 401
    assert department.deliveries == {}


def test_the_body_is_signed_over_its_exact_bytes(store):
    app = submit(store)
    raw = json.dumps(request_body(app, default_catalog()), ensure_ascii=False).encode()
    assert signing.verify(raw, signing.sign(raw, SECRET), SECRET)
    assert not signing.verify(raw + b" ", signing.sign(raw, SECRET), SECRET)


# --------------------------------------------------------------- status changes
def test_the_same_change_twice_is_kept_once_and_told_once(store):
    app = submit(store)
    at = (clock.now_utc() + dt.timedelta(minutes=5)).astimezone(clock.IST)  # as the department writes it
    first = store.change_status(app.reference, "approved", changed_by="department", changed_at=at,
                                certificate_url="https://example.org/c/1")
    again = store.change_status(app.reference, "approved", changed_by="department", changed_at=at,
                                certificate_url="https://example.org/c/1")
    assert first.new and not again.new and again.application.status == "approved"
    history = store.history(app.reference, SENDER)
    assert [h.status for h in history] == ["submitted", "approved"]
    assert history[-1].certificate_url == "https://example.org/c/1"
    assert [(n["kind"], n["state"]) for n in notices(store)] == [("status", "pending")]


def test_a_late_older_change_goes_into_the_history_only(store):
    app = submit(store)
    now = clock.now_utc()
    store.change_status(app.reference, "approved", changed_at=now + dt.timedelta(hours=3))
    late = store.change_status(app.reference, "in_progress", changed_at=now + dt.timedelta(hours=1))
    assert late.new and late.application.status == "approved"
    assert [h.status for h in store.history(app.reference, SENDER)] == ["submitted", "in_progress", "approved"]
    assert len(notices(store)) == 1  # the citizen is not told "in progress" after "approved"


def test_documents_requested_are_kept_in_order(store):
    app = submit(store)
    store.change_status(app.reference, "documents_needed", documents_requested=["Ration card", " Land  record "])
    assert store.history(app.reference, SENDER)[-1].documents_requested == ("Ration card", "Land record")
    with pytest.raises(KeyError):
        store.change_status("ORT-0000-0000", "approved")


@pytest.mark.parametrize("body, problem", [
    ({"status": "approved", "changed_at": "2026-12-03T10:00:00+05:30"}, "reference"),
    ({"reference": "ORT-1", "status": "lost", "changed_at": "2026-12-03T10:00:00+05:30"}, "status"),
    ({"reference": "ORT-1", "status": "approved", "changed_at": "2026-12-03T10:00:00"}, "offset"),
    ({"reference": "ORT-1", "status": "approved", "changed_at": "yesterday"}, "changed_at"),
    ({"reference": "ORT-1", "status": "documents_needed", "changed_at": "2026-12-03T10:00:00+05:30"}, "documents"),
    ({"reference": "ORT-1", "status": "approved", "changed_at": "2026-12-03T10:00:00+05:30",
      "certificate_url": "javascript:alert(1)"}, "URL"),
    (["not", "an", "object"], "object"),
])
def test_a_malformed_change_says_what_is_wrong(body, problem):
    with pytest.raises(BadChange, match=problem):
        parse_change(body)


def test_a_well_formed_change_is_read():
    change = parse_change({"reference": " ORT-1 ", "status": "rejected", "note": "Income proof missing",
                           "changed_at": "2026-12-03T10:00:00+05:30"})
    assert change["reference"] == "ORT-1" and change["note"] == "Income proof missing"
    assert change["changed_at"] == dt.datetime(2026, 12, 3, 4, 30, tzinfo=clock.UTC)


# ------------------------------------------------------------------- notices
def test_notices_of_one_citizen_go_one_at_a_time_in_order(store):
    mine, theirs = submit(store), submit(store, sender="919437000999")
    store.change_status(mine.reference, "received")
    store.change_status(mine.reference, "in_progress", changed_at=clock.now_utc() + dt.timedelta(seconds=1))
    store.change_status(theirs.reference, "received")
    queue = NoticeQueue(store)
    taken = queue.take()
    assert sorted(n["sender_id"] for n in taken) == sorted([SENDER, "919437000999"])  # not my second one
    assert queue.take() == []  # leased
    first = next(n for n in taken if n["sender_id"] == SENDER)
    assert queue.oldest_pending_for(SENDER)["id"] == first["id"]
    queue.sent(first["id"], "free_form")
    assert [n["sender_id"] for n in queue.take()] == [SENDER]


def test_an_overdue_application_is_queued_once(store):
    old = submit(store, days=3, now=dt.datetime(2026, 11, 2, 6, 0))  # due 5 Nov 2026
    submit(store, draft="d2", days=30, now=dt.datetime(2026, 11, 2, 6, 0))  # not due yet
    decided = submit(store, draft="d3", days=3, now=dt.datetime(2026, 11, 2, 6, 0))
    store.change_status(decided.reference, "approved")
    queue = NoticeQueue(store)
    assert queue.queue_overdue(today=dt.date(2026, 11, 5)) == 0  # the due date itself is in time
    assert queue.queue_overdue(today=dt.date(2026, 11, 6)) == 1
    assert queue.queue_overdue(today=dt.date(2026, 11, 7)) == 0  # once
    overdue = [n for n in notices(store) if n["kind"] == "overdue"]
    assert len(overdue) == 1 and overdue[0]["dedupe_key"] == f"overdue:{store_id(store, old.reference)}"


def store_id(store, reference):
    from seva.store import applications

    with store.engine.connect() as conn:
        return conn.execute(sa.select(applications.c.id).where(applications.c.reference == reference)).scalar_one()


# ------------------------------------------------------------ the 24-hour window
def test_the_window_follows_the_latest_message(store):
    engine = store.engine
    customer_window.metadata.create_all(engine)
    now = clock.now_utc_precise()
    with engine.begin() as conn:
        customer_window.record(conn, {SENDER: now - dt.timedelta(hours=30)})
    assert not customer_window.is_open(engine, SENDER, now)
    with engine.begin() as conn:
        customer_window.record(conn, {SENDER: now - dt.timedelta(hours=2)})
        customer_window.record(conn, {SENDER: now - dt.timedelta(hours=40)})  # an older one arriving late
    assert customer_window.is_open(engine, SENDER, now)
    assert not customer_window.is_open(engine, SENDER, now + dt.timedelta(hours=22, minutes=56))
    assert not customer_window.is_open(engine, "919000000000", now)  # never wrote


# ------------------------------------------------------------------ old databases
def test_an_older_database_gains_the_new_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the status_history of the previous version
        conn.execute(sa.text("CREATE TABLE applications (id INTEGER PRIMARY KEY, reference VARCHAR(20) UNIQUE "
                             "NOT NULL, sender_id VARCHAR(64) NOT NULL, draft_id VARCHAR(64) NOT NULL, "
                             "service_id VARCHAR(100) NOT NULL, language VARCHAR(2) NOT NULL, fields TEXT NOT NULL, "
                             "status VARCHAR(20) NOT NULL, submitted_at DATETIME NOT NULL, time_limit_days INTEGER, "
                             "due_date DATE)"))
        conn.execute(sa.text("CREATE TABLE status_history (id INTEGER PRIMARY KEY, application_id INTEGER NOT NULL "
                             "REFERENCES applications(id), status VARCHAR(20) NOT NULL, note TEXT, "
                             "changed_by VARCHAR(64) NOT NULL, changed_at DATETIME NOT NULL)"))
    store = Store(url)
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns(status_history.name)}
    assert {"certificate_url", "documents_requested", "change_key"} <= columns
    app = submit(store)
    assert store.change_status(app.reference, "received").new
