"""ORTPSA days are Indian dates; stored timestamps are aware UTC.

The fixed instant 2026-12-03T20:00Z is 4 December 01:30 in India: a server in UTC still
says 3 December. An application submitted at 2026-11-20T19:00Z was made on 21 November
in India (00:30 IST), which is its day 1.
"""
import datetime as dt

import pytest
import sqlalchemy as sa

from actions import common
from seva import clock, officer
from seva.store import Store

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 20, 0, tzinfo=UTC)         # 4 Dec 01:30 IST
SUBMITTED = dt.datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # 21 Nov 00:30 IST
SENDER = "919876543210"


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)
    return NOW


def submit(store, now=SUBMITTED, days=15, draft="d1"):
    return store.submit(sender_id=SENDER, draft_id=draft, service_id="income_certificate", language="or",
                        fields={}, time_limit_days=days, now=now)


def test_today_is_the_date_in_india(fixed_clock):
    assert clock.today_ist() == dt.date(2026, 12, 4)
    assert common.today() == dt.date(2026, 12, 4)  # what the status action counts with
    assert clock.to_ist(NOW) == dt.datetime(2026, 12, 4, 1, 30, tzinfo=clock.IST)
    assert clock.to_ist(NOW).utcoffset() == dt.timedelta(hours=5, minutes=30)
    # a naive value is read as UTC
    assert clock.to_ist(dt.datetime(2026, 12, 3, 20, 0)) == clock.to_ist(NOW)


def test_day_and_due_date_are_counted_in_india(store, fixed_clock):
    app = submit(store)
    # 15 working days after 21 Nov (in India): not counting Sundays, the fourth Saturday
    # (28 Nov) and Rahas Purnima (24 Nov)
    assert app.due_date == dt.date(2026, 12, 11)
    assert app.day_of(common.today()) == 9       # 4 Dec in India is the 9th working day
    assert app.day_of(dt.date(2026, 11, 21)) == 0
    assert app.submitted_on == dt.date(2026, 11, 21)
    assert not app.overdue(common.today())
    late = submit(store, days=8, draft="d2")
    assert late.due_date == dt.date(2026, 12, 3)
    assert late.overdue(common.today())          # 4 Dec in India, although 3 Dec in UTC


def test_timestamps_are_stored_and_read_back_as_aware_utc(store, fixed_clock):
    in_india = SUBMITTED.astimezone(clock.IST)  # the same instant given with +05:30
    app = submit(store, now=in_india)
    assert app.submitted_at == SUBMITTED
    assert app.submitted_at.utcoffset() == dt.timedelta(0)
    again = store.find(app.reference, SENDER)
    assert again.submitted_at == SUBMITTED and again.submitted_at.tzinfo is not None
    assert store.for_sender(SENDER)[0].submitted_at.utcoffset() == dt.timedelta(0)

    changed = store.set_status(app.reference, "in_progress")  # the clock's now
    history = store.history(changed.reference, SENDER)
    assert [h.changed_at for h in history] == [SUBMITTED, NOW]
    assert all(h.changed_at.utcoffset() == dt.timedelta(0) for h in history)

    store.add_grievance(app.reference, SENDER, "no reply")
    [grievance] = store.grievances_for(app.reference, SENDER)
    assert grievance["created_at"] == NOW and grievance["created_at"].utcoffset() == dt.timedelta(0)


def test_rows_written_naive_before_are_read_as_utc(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    app = submit(store)
    with store.engine.begin() as conn:  # what the old code wrote: naive, no offset
        conn.execute(sa.text("UPDATE applications SET submitted_at = '2026-11-20 19:00:00.000000'"))
    assert store.find(app.reference, SENDER).submitted_at == SUBMITTED


def test_officer_listing_counts_overdue_in_india(tmp_path, fixed_clock, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    submit(Store(url), days=8)  # due 3 Dec: 8 working days after 21 Nov
    assert officer.main(["--db", url, "list"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert "2026-11-21" in line and "2026-12-03" in line and "OVERDUE" in line, line


def test_the_channels_tables_keep_aware_utc_too(tmp_path):
    """The WhatsApp message log, inbox and menus: every stored moment is aware UTC."""
    import asyncio

    from channels import dedupe, inbox, menus

    url = f"sqlite:///{tmp_path / 'channel.db'}"
    log, store = dedupe.SQLMessageLog(url), menus.MenuStore(url)
    asyncio.run(log.claim("wamid.1"))
    asyncio.run(store.remember("919437000111", {"1": "/greet"}))
    with log.engine.connect() as conn:
        claimed = conn.execute(sa.select(dedupe.inbound.c.claimed_at)).scalar_one()
        sent = conn.execute(sa.select(menus.menus.c.sent_at)).scalar_one()
    assert claimed.tzinfo == dt.timezone.utc and sent.tzinfo == dt.timezone.utc
    assert inbox.pending.c.received_at.type.__class__.__name__ == "UTCDateTime"
