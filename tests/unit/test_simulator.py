"""The chat page's server: what it sends to the webhook, what it shows, the designer view."""
import asyncio
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from channels.graph_client import GraphClient
from channels.templates import render, template_message
from channels.whatsapp_inbound import parse
from channels.whatsapp_outbound import document_message
from fakegraph.simulator import SimulatorGraph, turns

SECRET = "unit-secret"


class Webhook(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append((self.headers.get("X-Hub-Signature-256"), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sim():
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    graph = SimulatorGraph(app_secret=SECRET, webhook_url=f"http://127.0.0.1:{server.server_port}/").start()
    yield graph
    graph.stop()
    server.shutdown()


def call(graph, path, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{graph.port}{path}", data,
                                     {"Content-Type": content_type} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def last_webhook_message():
    signature, body = Webhook.received[-1]
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]


def test_page_and_its_files_are_served_and_nothing_else(sim):
    status, page = call(sim, "/")
    assert status == 200 and b"<title>Seva" in page
    assert call(sim, "/static/app.js")[0] == 200
    assert call(sim, "/static/..%2Fsimulator.py")[0] == 404
    assert call(sim, "/static/missing.js")[0] == 404


def test_typed_text_becomes_a_signed_meta_webhook(sim):
    status, body = call(sim, "/sim/messages", {"from": "919437000001", "type": "text", "text": "ନମସ୍କାର"})
    assert status == 200 and json.loads(body)["webhook_status"] == 200
    message = last_webhook_message()
    assert message["from"] == "919437000001" and message["text"]["body"] == "ନମସ୍କାର"
    assert json.loads(body)["id"] == message["id"]


def test_taps_become_button_and_list_replies(sim):
    call(sim, "/sim/messages", {"from": "919437000001", "type": "button", "id": "/affirm", "title": "Yes"})
    assert last_webhook_message()["interactive"]["button_reply"] == {"id": "/affirm", "title": "Yes"}
    call(sim, "/sim/messages", {"from": "919437000001", "type": "list", "id": "education", "title": "Education"})
    assert last_webhook_message()["interactive"]["list_reply"]["id"] == "education"


def test_an_uploaded_voice_note_is_media_the_channel_can_fetch(sim):
    status, body = call(sim, "/sim/media", b"OggS-voice", "audio/ogg; codecs=opus")
    media_id = json.loads(body)["id"]
    call(sim, "/sim/messages", {"from": "919437000002", "type": "audio", "media_id": media_id})
    audio = last_webhook_message()["audio"]
    assert audio["id"] == media_id and audio["voice"] is True and audio["mime_type"].startswith("audio/ogg")
    assert sim.media[media_id].data == b"OggS-voice"


@pytest.mark.parametrize("body", [{"from": "abc", "type": "text", "text": "hi"},
                                  {"from": "919437000001", "type": "text", "text": "  "},
                                  {"from": "919437000001", "type": "audio", "media_id": "nope"},
                                  {"from": "919437000001", "type": "sticker"}])
def test_bad_requests_are_refused_without_a_webhook(sim, body):
    before = len(Webhook.received)
    assert call(sim, "/sim/messages", body)[0] == 400
    assert len(Webhook.received) == before


def test_updates_show_only_this_numbers_messages_after_a_position(sim):
    sim.sent.extend([{"to": "919437000001", "type": "text", "text": {"body": "one"}},
                     {"to": "919437000009", "type": "text", "text": {"body": "other"}},
                     {"to": "919437000001", "type": "text", "text": {"body": "two"}}])
    sim.reads.append({"message_id": "wamid.x", "typing_indicator": {"type": "text"}})
    first = len(sim.sent) - 3
    update = json.loads(call(sim, f"/sim/updates?wa_id=919437000001&since={first}&reads_since=0")[1])
    assert [m["body"]["text"]["body"] for m in update["messages"]] == ["one", "two"]
    assert update["next"] == len(sim.sent) and {"id": "wamid.x", "typing": True} in update["reads"]
    later = json.loads(call(sim, f"/sim/updates?wa_id=919437000001&since={update['next']}"
                                 f"&reads_since={update['reads_next']}")[1])
    assert later["messages"] == [] and later["reads"] == []


def test_designer_view_needs_rasa(sim):
    assert call(sim, "/sim/turns?wa_id=919437000001")[0] == 404


def test_turns_replay_the_tracker_per_citizen_message():
    events = [
        {"event": "user", "text": "old", "parse_data": {"intent": {"name": "greet", "confidence": 1}}},
        {"event": "restart"},
        {"event": "user", "text": "income certificate",
         "parse_data": {"intent": {"name": "apply_service", "confidence": 0.91234},
                        "entities": [{"entity": "language", "value": "en", "start": 0}]}},
        {"event": "action", "name": "action_resolve_service"},
        {"event": "slot", "name": "service", "value": "income_certificate"},
        {"event": "active_loop", "name": "application_form"},
        {"event": "slot", "name": "requested_slot", "value": "field_answer"},
        {"event": "bot", "text": "(1/5) What is the applicant's full name?"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "Ramesh", "parse_data": {"intent": {"name": "inform", "confidence": 0.8}}},
        {"event": "slot", "name": "session_started_metadata", "value": {"x": 1}},
        {"event": "active_loop", "name": None},
        {"event": "slot", "name": "requested_slot", "value": None},
    ]
    first, second = turns(events)
    assert first == {"text": "income certificate", "intent": "apply_service", "confidence": 0.912,
                     "entities": [{"entity": "language", "value": "en"}],
                     "bot": ["(1/5) What is the applicant's full name?"], "actions": ["action_resolve_service"],
                     "active_loop": "application_form", "requested_slot": "field_answer",
                     "slots": {"service": "income_certificate"}}
    assert second["active_loop"] is None and second["requested_slot"] is None
    assert second["slots"] == {"service": "income_certificate"}  # channel metadata hidden


def test_a_template_shows_as_its_text_and_its_button_taps_send_the_payload_back(sim):
    values = {"reference": "ORT-7K3M-9QXF", "service": "ଆୟ ପ୍ରମାଣପତ୍ର", "reason": "ଠିକଣା\nଅସମ୍ପୂର୍ଣ୍ଣ",
              "appellate": "ଉପଜିଲ୍ଲାପାଳ"}
    body = template_message("919437000003", sim.templates["seva_rejected"], "or", values, ["/appeal_ORT-7K3M-9QXF"])
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {sim.access_token}"}
    request = urllib.request.Request(f"{sim.base_url}/{sim.phone_number_id}/messages", json.dumps(body).encode(),
                                     headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # a template needs no open window
        assert response.status == 200
    update = json.loads(call(sim, f"/sim/updates?wa_id=919437000003&since={len(sim.sent) - 1}")[1])
    shown = update["messages"][-1]["rendered"]
    assert shown["text"] == render(sim.templates["seva_rejected"], "or", values)
    assert "ORT-7K3M-9QXF" in shown["text"] and "ଠିକଣା · ଅସମ୍ପୂର୍ଣ୍ଣ" in shown["text"] and "{{" not in shown["text"]
    assert shown["buttons"] == [{"title": "ଅଭିଯୋଗ ବା ଅପିଲ", "payload": "/appeal_ORT-7K3M-9QXF"}]

    status, _ = call(sim, "/sim/messages", {"from": "919437000003", "type": "template_button",
                                            "payload": "/appeal_ORT-7K3M-9QXF", "title": "ଅଭିଯୋଗ ବା ଅପିଲ"})
    assert status == 200
    message = last_webhook_message()
    assert message["type"] == "button"
    assert message["button"] == {"payload": "/appeal_ORT-7K3M-9QXF", "text": "ଅଭିଯୋଗ ବା ଅପିଲ"}
    parsed = parse(json.loads(Webhook.received[-1][1])).messages[0]  # what the channel reads: the payload
    assert parsed.type == "button" and parsed.text == "/appeal_ORT-7K3M-9QXF"


def test_other_messages_have_nothing_rendered(sim):
    assert sim.rendered({"to": "1", "type": "text", "text": {"body": "x"}}) is None
    unknown = {"to": "1", "type": "template", "template": {"name": "nope", "language": {"code": "en"}}}
    assert sim.rendered(unknown) is None


def test_a_document_shows_as_a_file_whose_link_downloads_the_uploaded_bytes(sim):
    pdf = b"%PDF-1.4\n<script>alert(1)</script>\n" + bytes(range(256))
    sim.customer_wrote("919437000002", time.time())

    async def upload_and_send():
        client = GraphClient(sim.base_url, sim.access_token, sim.phone_number_id)
        try:
            media_id = await client.upload_media(pdf, "application/pdf", "ack.pdf")
            result = await client.send(document_message("919437000002", media_id, "<img src=x onerror=alert(1)> ଆବେଦନ",
                                                         "Received"))
            return media_id, result
        finally:
            await client.close()

    media_id, result = asyncio.run(upload_and_send())
    assert result.ok
    update = json.loads(call(sim, f"/sim/updates?wa_id=919437000002&since={len(sim.sent) - 1}")[1])
    message = update["messages"][-1]
    assert message["body"]["document"]["id"] == media_id
    shown = message["rendered"]["document"]
    assert shown == {"filename": "<img src=x onerror=alert(1)> ଆବେଦନ.pdf", "label": "PDF", "caption": "Received",
                     "size": len(pdf), "url": f"/sim/media/{media_id}"}
    request = urllib.request.Request(f"http://127.0.0.1:{sim.port}{shown['url']}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == pdf
        assert response.headers["Content-Type"] == "application/octet-stream"  # a download, never run in the page
        assert response.headers["Content-Disposition"].startswith("attachment;")
    assert call(sim, "/sim/media/999")[0] == 404


def test_a_linked_document_shows_its_link_only_if_it_is_http():
    graph = SimulatorGraph()
    assert graph.rendered({"type": "document", "document": {"link": "https://example.org/a.pdf"}})["document"][
        "url"] == "https://example.org/a.pdf"
    assert graph.rendered({"type": "document", "document": {"link": "javascript:alert(1)", "filename": "a"}})[
        "document"]["url"] is None
