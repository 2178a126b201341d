"""How a notice goes out (channels/department.py): free-form inside the 24-hour window, the
approved template outside it or when Meta says the window is closed, retried on outages.
Against the fake Graph API, which refuses what Meta refuses; the notice's messages are
given as Rasa would have composed them (the whole path with Rasa: tests/e2e/test_department.py)."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from channels import customer_window
from channels.department import DepartmentWorker
from channels.graph_client import GraphClient
from fakegraph.server import FakeGraph
from seva import clock
from seva.store import Store, citizen_notices

CITIZEN = "919437000321"


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'apps.db'}")
    customer_window.metadata.create_all(store.engine)
    return store


def worker(store, graph):
    client = GraphClient(graph.base_url, graph.access_token, graph.phone_number_id, max_attempts=1)
    return DepartmentWorker(store, agent=lambda: None, client=client, secret="s")


def approved_notice(store, worker):
    """An approved application's notice, taken, with the messages Rasa would have composed."""
    app = store.submit(sender_id=CITIZEN, draft_id="d", service_id="income_certificate", language="or",
                       fields={}, time_limit_days=15)
    store.change_status(app.reference, "approved", certificate_url="https://example.org/c")
    [row] = worker.notices.take()
    worker.notices.keep_rendered(row["id"], {
        "messages": [{"text": f"✅ {app.reference} ମଞ୍ଜୁର ହୋଇଛି।", "buttons": []}],
        "template": {"name": "seva_approved", "language": "or", "notice_id": row["id"], "button_payloads": [],
                     "values": {"reference": app.reference, "service": "ଆୟ ପ୍ରମାଣପତ୍ର",
                                "collect": "ଆପଣଙ୍କ ପ୍ରମାଣପତ୍ର: https://example.org/c"}}})
    return store_notice(store)  # as the worker holds it: leased, rendered


def wrote(store, graph, hours_ago, fake_knows=True):
    at = clock.now_utc_precise() - dt.timedelta(hours=hours_ago)
    with store.engine.begin() as conn:
        customer_window.record(conn, {CITIZEN: at})
    if fake_knows:
        graph.customer_wrote(CITIZEN, at.timestamp())


def state(store):
    return store_notice(store)["state"], store_notice(store)["sent_via"]


def store_notice(store):
    with store.engine.connect() as conn:
        return dict(conn.execute(citizen_notices.select()).mappings().one())


def test_inside_the_window_the_free_form_message_goes(store, graph):
    w = worker(store, graph)
    row = approved_notice(store, w)
    wrote(store, graph, hours_ago=2)
    asyncio.run(w._send_notice(row))
    assert state(store) == ("sent", "free_form")
    [sent] = graph.messages_to(CITIZEN)
    assert sent["type"] == "text" and "ମଞ୍ଜୁର" in sent["text"]["body"]


def test_outside_the_window_the_template_goes(store, graph):
    w = worker(store, graph)
    row = approved_notice(store, w)
    wrote(store, graph, hours_ago=30)
    asyncio.run(w._send_notice(row))
    assert state(store) == ("sent", "template")
    [sent] = graph.messages_to(CITIZEN)
    assert sent["type"] == "template" and sent["template"]["name"] == "seva_approved"
    assert graph.rejected == []  # nothing free-form was tried


def test_when_meta_says_the_window_is_closed_the_template_goes_instead(store, graph):
    w = worker(store, graph)
    row = approved_notice(store, w)
    wrote(store, graph, hours_ago=1, fake_knows=False)  # our record and Meta's disagree
    asyncio.run(w._send_notice(row))
    assert [code for code, _ in graph.rejected] == [131047]
    assert state(store) == ("sent", "template")
    assert [b["type"] for b in graph.messages_to(CITIZEN)] == ["template"]


def test_an_outage_leaves_the_notice_for_later(store, graph):
    w = worker(store, graph)
    row = approved_notice(store, w)
    wrote(store, graph, hours_ago=1)
    graph.fail("500", count=1)
    asyncio.run(w._send_notice(row))
    notice = store_notice(store)
    assert notice["state"] == "pending" and "500" in notice["last_error"] and notice["lease_owner"] is None
    assert notice["next_attempt_at"] > clock.now_utc_precise() + dt.timedelta(seconds=20)
    assert graph.messages_to(CITIZEN) == []


def test_without_the_assistant_ready_nothing_is_sent_and_it_is_tried_again(store, graph):
    w = worker(store, graph)
    app = store.submit(sender_id=CITIZEN, draft_id="d", service_id="income_certificate", language="or",
                       fields={}, time_limit_days=15)
    store.change_status(app.reference, "received")
    [row] = w.notices.take()
    asyncio.run(w._send_notice(row))  # rendered is empty and there is no agent to compose it
    assert store_notice(store)["state"] == "pending" and graph.messages_to(CITIZEN) == []


def test_a_bug_costs_the_notice_a_retry_then_an_operator_sees_it(store, graph, monkeypatch):
    w = worker(store, graph)
    row = approved_notice(store, w)

    async def broken(_row):
        raise KeyError("no template seva_approved in language or")
    monkeypatch.setattr(w, "_send_notice", broken)
    asyncio.run(w._send_guarded({**row, "attempts": 99}))  # the last of its attempts
    assert store_notice(store)["state"] == "failed" and "KeyError" in store_notice(store)["last_error"]


def test_a_bug_first_costs_a_retry(store, graph, monkeypatch):
    w = worker(store, graph)
    row = approved_notice(store, w)

    async def broken(_row):
        raise KeyError("no template")
    monkeypatch.setattr(w, "_send_notice", broken)
    asyncio.run(w._send_guarded(row))
    notice = store_notice(store)
    assert notice["state"] == "pending" and notice["lease_owner"] is None and "KeyError" in notice["last_error"]
