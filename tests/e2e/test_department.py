"""The department loop end to end: a real `rasa run` and action server, the fake Graph API and
the fake department, on loopback ports.

An Odia citizen applies on WhatsApp; the application reaches the department exactly once
although its first two attempts fail and `rasa run` restarts in between; the department's
"approved" reaches the citizen in seconds, free-form inside the 24-hour window and as the
approved template outside it; a replayed change is not told twice, an unsigned one is
refused; a time limit that passed produces one overdue notice with the appeal route.

The "clock is moved" by moving the citizen's last message 25 hours back, on both sides:
in the channel's record (whatsapp_contacts) and in the fake Graph API, which refuses
free-form messages outside the window as Meta does (131047)."""
import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa

from fakedepartment.server import FakeDepartment
from fakegraph.server import FakeGraph, button_reply, envelope, list_reply, text
from seva import clock
from tests.e2e.servers import MODEL, Stack

SECRET, VERIFY, DEPARTMENT_SECRET = "e2e-app-secret", "e2e-verify-token", "e2e-department-secret"
ODIA = re.compile(r"[\u0b00-\u0b7f]")
REFERENCE = re.compile(r"ORT-\w{4}-\w{4}")


@pytest.fixture(scope="module")
def fake():
    server = FakeGraph(app_secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def department():
    server = FakeDepartment(DEPARTMENT_SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fake, department):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    stack = Stack.for_whatsapp(
        tmp_path_factory.mktemp("department"), fake, SECRET, VERIFY, WHATSAPP_GRAPH_TIMEOUT="2",
        DEPARTMENT_API_URL=department.base_url, DEPARTMENT_API_SECRET=DEPARTMENT_SECRET,
        # retries 2-4 s apart (a restart fits between them), the outbox looked at twice a
        # second, due dates checked every second
        DEPARTMENT_RETRY_BASE_SECONDS="4", DEPARTMENT_POLL_SECONDS="0.5", SEVA_OVERDUE_SCAN_SECONDS="1")
    try:
        stack.start_actions()
        stack.start_rasa()
        department.seva_status_url = f"{stack.rasa_url}/webhooks/department/status"
        yield stack
    finally:
        stack.stop()


def body_text(body):
    if body["type"] == "text":
        return body["text"]["body"]
    if body["type"] == "interactive":
        return body["interactive"]["body"]["text"]
    if body["type"] == "document":
        return body["document"].get("caption") or ""
    return ""


def ask(stack, fake, wa_id, message):
    before = len(fake.messages_to(wa_id))
    assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])
    return fake.messages_to(wa_id)[before:]


def apply_in_odia(stack, fake, me):
    """A whole income-certificate application, typed in Odia; its reference."""
    ask(stack, fake, me, text(me, "ନମସ୍କାର"))
    ask(stack, fake, me, text(me, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"))
    for answer in ("ରମେଶ ସାହୁ", "ଗୋପାଳ ସାହୁ", "କଟକ"):
        ask(stack, fake, me, text(me, answer))
    replies = ask(stack, fake, me, text(me, "୬୦୦୦୦"))
    row = next(r for r in replies[-1]["interactive"]["action"]["sections"][0]["rows"] if r["id"] == "education")
    replies = ask(stack, fake, me, list_reply(me, row["id"], row["title"]))
    yes = replies[-1]["interactive"]["action"]["buttons"][0]["reply"]
    done = ask(stack, fake, me, button_reply(me, yes["id"], yes["title"]))
    return REFERENCE.search(body_text(done[0])).group(0)


def next_message(fake, wa_id, count_before, timeout):
    """The first message to ``wa_id`` after the ``count_before`` already sent, and how long it took."""
    started = time.monotonic()
    fake.wait_until(lambda: len(fake.messages_to(wa_id)) > count_before, timeout, f"a message to {wa_id}")
    return fake.messages_to(wa_id)[count_before], time.monotonic() - started


def close_window(stack, fake, wa_id):
    """25 hours since the citizen last wrote, for the channel and for the fake Meta."""
    long_ago = clock.now_utc_precise() - dt.timedelta(hours=25)
    with stack.engine.begin() as conn:
        conn.execute(sa.text("UPDATE whatsapp_contacts SET last_message_at = :at WHERE sender = :s"),
                     {"at": long_ago.replace(tzinfo=None), "s": wa_id})
    fake.customer_wrote(wa_id, long_ago.timestamp())


def test_an_odia_application_reaches_the_department_once_through_failures_and_a_restart(stack, fake, department):
    me = "919437000801"
    department.fail("500", 2)
    reference = apply_in_odia(stack, fake, me)
    department.wait_until(lambda: len(department.attempts) >= 1, 30, "the first delivery attempt")
    stack.stop_rasa()  # the second attempt is 2-4 s away: it is made by the next `rasa run`
    assert len(department.attempts) == 1
    stack.start_rasa()
    delivered = department.wait_for_delivery(reference, timeout=60)
    assert delivered["language"] == "or" and ODIA.search(delivered["answers"]["applicant_name"])
    time.sleep(2)  # nothing more is sent once delivered
    assert [a[0] for a in department.attempts] == [500, 500, 201]
    assert {a[1] for a in department.attempts} == {reference} and department.replays == []
    status = body_text(ask(stack, fake, me, text(me, f"ସ୍ଥିତି {reference}"))[0])
    assert "ବିଭାଗକୁ ପଠାଯାଇଛି" in status  # the status reply says it reached the department


def test_the_receipt_is_a_pdf_in_odia_sent_after_submitting_and_on_request(stack, fake, department):
    me = "919437000804"
    reference = apply_in_odia(stack, fake, me)
    [(sent, pdf)] = fake.document_sent_to(me)  # uploaded to WhatsApp's media, sent as a document
    assert sent["document"]["filename"] == f"{reference}.pdf" and ODIA.search(sent["document"]["caption"])
    words = pdf_text(pdf)
    assert reference in words and ODIA.search(words), words[:300]
    again = ask(stack, fake, me, text(me, f"ରସିଦ {reference}"))
    assert [m["type"] for m in again] == ["document"]
    assert len(fake.document_sent_to(me)) == 2 and fake.document_sent_to(me)[1][1][:5] == b"%PDF-"


def pdf_text(data):
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_approved_reaches_the_citizen_in_seconds_once_and_only_signed(stack, fake, department):
    me = "919437000802"
    reference = apply_in_odia(stack, fake, me)
    department.wait_for_delivery(reference, timeout=30)
    asked = ask(stack, fake, me, text(me, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"))  # a second application, half-way
    assert "(1/5)" in body_text(asked[-1])
    before = len(fake.messages_to(me))
    code, _ = department.post_status(reference, "approved", certificate_url="https://edistrict.example/c/123")
    assert code == 200
    notice, took = next_message(fake, me, before, timeout=10)
    assert took < 2.0, f"the approval took {took:.2f} s to reach the citizen"
    assert notice["type"] == "text" and reference in body_text(notice) and ODIA.search(body_text(notice))
    assert "https://edistrict.example/c/123" in body_text(notice)
    assert department.replay_last()[0] == 200  # the same change again: a 200 that changes nothing
    assert department.post_status(reference, "approved", signed=False)[0] == 401
    assert department.post_status(reference, "rejected", note="x", secret="not-the-secret")[0] == 401
    assert department.post_status("ORT-0000-0000", "approved")[0] == 404
    # the notice did not break the form the citizen is filling in: their answer is taken
    # (and, a barrier, everything for them before it has gone out)
    going_on = ask(stack, fake, me, text(me, "ସୀତା ସାହୁ"))
    assert "(2/5)" in body_text(going_on[-1]), going_on
    assert len(fake.messages_to(me)) == before + 1 + len(going_on)  # one notice, no repeat, nothing unsigned
    history = stack.query("SELECT h.status FROM status_history h JOIN applications a ON a.id = h.application_id "
                          "WHERE a.reference = :r ORDER BY h.id", r=reference)
    assert [row[0] for row in history] == ["submitted", "approved"]


def test_outside_the_window_the_template_is_sent_and_overdue_is_told_once(stack, fake, department):
    me = "919437000803"
    reference = apply_in_odia(stack, fake, me)
    department.wait_for_delivery(reference, timeout=30)
    close_window(stack, fake, me)
    before = len(fake.messages_to(me))
    yesterday = clock.today_ist() - dt.timedelta(days=1)
    with stack.engine.begin() as conn:  # the time limit ran out yesterday, undecided
        conn.execute(sa.text("UPDATE applications SET due_date = :d WHERE reference = :r"),
                     {"d": yesterday, "r": reference})
    overdue, _ = next_message(fake, me, before, timeout=15)
    assert overdue["type"] == "template" and overdue["template"]["name"] == "seva_overdue"
    assert overdue["template"]["language"]["code"] == "or"
    values = [p["text"] for p in overdue["template"]["components"][0]["parameters"]]
    assert values[0] == reference and yesterday.strftime("%d/%m/%Y") in values
    button = overdue["template"]["components"][1]["parameters"][0]["payload"]
    assert button.startswith("/grievance") and reference in button  # the appeal, in chat
    time.sleep(3)  # three more scans of the due dates
    assert len(fake.messages_to(me)) == before + 1
    assert department.post_status(reference, "approved")[0] == 200
    approved, took = next_message(fake, me, before + 1, timeout=10)
    assert took < 2.0 and approved["type"] == "template" and approved["template"]["name"] == "seva_approved"
    assert not [r for r in fake.rejected if r[1].get("to") == me]  # nothing free-form was tried
