"""The fake Graph API keeps Meta's 24-hour customer-service window and its template rules:
free-form messages only to someone who wrote within 24 hours (131047), templates only if
approved in that language (132001) with the right number of parameters (132000)."""
import json
import time
import urllib.error
import urllib.request

import pytest

from channels.templates import load_templates, template_message
from fakegraph.server import WINDOW_SECONDS, FakeGraph, envelope, text

TEMPLATES = load_templates()
T0 = 1_750_000_000.0  # when the citizens below last wrote, in Meta's seconds


@pytest.fixture(scope="module")
def server():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    server.now = lambda: T0
    yield server
    server.now = time.time


def post(fake, body):
    """(HTTP status, error code or None) of one send."""
    request = urllib.request.Request(f"{fake.base_url}/{fake.phone_number_id}/messages", json.dumps(body).encode(),
                                     {"Content-Type": "application/json",
                                      "Authorization": f"Bearer {fake.access_token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["error"]["code"]


def free_form(to):
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"body": "Your application is approved."}}


def status_update(to, lang="or", **change):
    values = {"reference": "ORT-7K3M-9QXF", "service": "ଆୟ ପ୍ରମାଣପତ୍ର", "status": "ମଞ୍ଜୁର"}
    body = template_message(to, TEMPLATES["seva_status_update"], lang, values)
    body["template"].update(change)
    return body


def test_free_form_within_24_hours_of_the_last_message_is_sent(fake):
    fake.customer_wrote("919437000501", T0 - WINDOW_SECONDS + 60)
    assert post(fake, free_form("919437000501")) == (200, None)
    assert fake.messages_to("919437000501") and fake.rejected == []


def test_free_form_more_than_24_hours_after_the_last_message_is_refused(fake):
    fake.customer_wrote("919437000502", T0 - WINDOW_SECONDS - 1)
    body = free_form("919437000502")
    assert post(fake, body) == (400, 131047)
    assert fake.rejected == [(131047, body)] and fake.sent == []


@pytest.mark.parametrize("kind, content", [
    ("text", {"body": "hello"}),
    ("interactive", {"type": "button", "body": {"text": "Pick"},
                     "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}),
    ("image", {"link": "https://example.org/a.jpg"}),
    ("document", {"link": "https://example.org/a.pdf"}),
    ("document", {"id": "uploaded", "filename": "ack.pdf", "caption": "Received"}),
    ("audio", {"id": "1"}),
])
def test_free_form_of_any_kind_to_someone_who_never_wrote_is_refused(fake, kind, content):
    if content.get("id") == "uploaded":  # a document the fake knows: only the window refuses it
        content = {**content, "id": fake.add_media(b"%PDF-1.4", "application/pdf", "ack.pdf")}
    body = {"messaging_product": "whatsapp", "to": "919437000503", "type": kind, kind: content}
    assert post(fake, body) == (400, 131047)


def test_a_read_receipt_is_not_a_message_and_needs_no_window(fake):
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.x",
               "typing_indicator": {"type": "text"}}
    assert post(fake, receipt) == (200, None)


def test_a_template_outside_the_window_is_sent(fake):
    fake.customer_wrote("919437000504", T0 - 3 * WINDOW_SECONDS)
    assert post(fake, status_update("919437000504")) == (200, None)
    assert post(fake, status_update("919437000505")) == (200, None)  # never wrote: a template may start it
    assert [b["type"] for b in fake.sent] == ["template", "template"]


@pytest.mark.parametrize("change", [{"name": "seva_unknown"}, {"language": {"code": "fr"}},
                                    {"language": {"code": "en_US"}}])
def test_an_unknown_template_or_language_is_refused(fake, change):
    body = status_update("919437000506", **change)
    assert post(fake, body) == (400, 132001)
    assert fake.rejected == [(132001, body)]


@pytest.mark.parametrize("parameters", [2, 4, 0])
def test_a_template_with_the_wrong_number_of_parameters_is_refused(fake, parameters):
    body = status_update("919437000507")
    texts = [{"type": "text", "text": f"value {n}"} for n in range(parameters)]
    body["template"]["components"] = [{"type": "body", "parameters": texts}] if parameters else []
    assert post(fake, body) == (400, 132000)
    assert fake.rejected == [(132000, body)]


def test_a_button_the_template_does_not_have_is_refused(fake):
    values = {"reference": "R", "service": "S", "status": "T"}
    body = template_message("919437000508", TEMPLATES["seva_status_update"], "en", values)
    body["template"]["components"].append({"type": "button", "sub_type": "quick_reply", "index": "0",
                                           "parameters": [{"type": "payload", "payload": "x"}]})
    assert post(fake, body) == (400, 132000)
    values = {"reference": "R", "service": "S", "reason": "X", "appellate": "A"}
    rejected = template_message("919437000508", TEMPLATES["seva_rejected"], "en", values, ["/appeal"])
    assert post(fake, rejected) == (200, None)


def test_a_parameter_with_a_newline_is_refused_as_meta_does(fake):
    body = status_update("919437000509")
    body["template"]["components"][0]["parameters"][2]["text"] = "Approved\nready"
    assert post(fake, body) == (400, 100)


def test_delivering_a_message_opens_the_window_at_its_timestamp(fake):
    fake.deliver(envelope([text("919437000510", "hello", ts=int(T0) - 3600)]), url="http://127.0.0.1:9", retries=0)
    assert fake.window_open("919437000510")
    fake.now = lambda: T0 + WINDOW_SECONDS
    assert not fake.window_open("919437000510")
    fake.customer_wrote("919437000510", T0 - 7 * WINDOW_SECONDS)  # an old message does not close it again
    fake.now = lambda: T0
    assert fake.window_open("919437000510") and post(fake, free_form("919437000510")) == (200, None)


def test_the_clock_is_real_time_unless_a_test_replaces_it():
    fake = FakeGraph(templates=TEMPLATES)
    fake.customer_wrote("919437000511", time.time() - 60)
    assert fake.window_open("919437000511") and not fake.window_open("919437000512")
