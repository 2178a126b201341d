"""WhatsApp channel parts without Rasa: payload parser, outbound mapper, Graph client."""
import asyncio
import hashlib
import hmac
import json
import time

import pytest

from channels import whatsapp_outbound as out
from channels.graph_client import GraphClient
from channels.outbox import Outbox
from channels.whatsapp_inbound import MalformedPayload, decode, parse
from fakegraph.server import (
    FakeGraph,
    button_reply,
    envelope,
    list_reply,
    media_message,
    meta_json,
    status,
    text,
    validate_message,
)
from seva.privacy import mask_phone


def test_batch_with_several_entries_changes_and_messages():
    one = envelope([text("911", "a"), text("912", "b")])
    two = envelope([button_reply("913", "/affirm")], [status("wamid.x", "911", "failed", 131047)])
    data = {"object": "whatsapp_business_account", "entry": one["entry"] + two["entry"]}
    note = parse(decode(meta_json(data)))
    assert [(m.sender, m.text) for m in note.messages] == [("911", "a"), ("912", "b"), ("913", "/affirm")]
    assert note.statuses[0].error_code == 131047 and note.statuses[0].status == "failed"


def test_message_types_and_reply_ids():
    note = parse(envelope([list_reply("911", "education", "Education"),
                           media_message("911", "audio", "555", mime_type="audio/ogg; codecs=opus", voice=True),
                           {"from": "911", "id": "wamid.t", "timestamp": "1", "type": "button",
                            "button": {"payload": "yes", "text": "Yes"}}]))
    listed, audio, template = note.messages
    assert listed.text == "education"
    assert audio.type == "audio" and audio.media_id == "555" and audio.voice and audio.text is None
    assert template.text == "yes"
    assert listed.profile_name == "Test Citizen"


def test_sender_falls_back_to_business_scoped_user_id():
    message = {"id": "wamid.u", "timestamp": "1", "type": "text", "text": {"body": "hi"}}
    payload = envelope([dict(message, **{"from": "x"})],
                       contacts=[{"profile": {"name": "A"}, "user_id": "IN.123456"}])
    payload["entry"][0]["changes"][0]["value"]["messages"][0].pop("from")
    note = parse(payload)
    assert note.messages[0].sender == "IN.123456"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object":"page","entry":[]}',
                                  b'{"object":"whatsapp_business_account"}', b"\xff\xfe"])
def test_malformed_bodies_are_refused(body):
    with pytest.raises(MalformedPayload):
        decode(body)


def test_malformed_items_are_skipped_not_fatal():
    data = envelope([text("911", "ok")])
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"] += [{"id": 5}, "junk", {"from": "911", "type": "text"}]
    value["statuses"] = [{"status": "sent"}]
    data["entry"].append({"changes": ["junk", {"value": None}]})
    note = parse(data)
    assert [m.text for m in note.messages] == ["ok"] and note.skipped == 6


def test_signature_is_over_the_raw_body_not_a_reserialisation():
    payload = envelope([text("911", "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର / income")])
    raw = meta_json(payload)
    assert b"\\u0b2e" in raw and b"\\/" in raw
    good = hmac.new(b"s", raw, hashlib.sha256).hexdigest()
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert hmac.new(b"s", reserialised, hashlib.sha256).hexdigest() != good


def test_long_text_is_split_at_boundaries_never_mid_word():
    sentence = "ଆପଣଙ୍କ ଆବେଦନ ଦାଖଲ ହୋଇଗଲା। "
    pieces = out.split_text(sentence * 400)
    assert len(pieces) > 1 and all(len(p) <= out.TEXT_LIMIT for p in pieces)
    assert all(p.endswith("।") for p in pieces[:-1])
    assert "".join(p.replace(" ", "") for p in pieces) == (sentence * 400).replace(" ", "")
    giant = "x" * 9000
    assert [len(p) for p in out.split_text(giant)] == [4096, 4096, 808]


def test_shorten_cuts_at_a_word_with_an_ellipsis():
    assert out.shorten("Income certificate", 20) == "Income certificate"
    assert out.shorten("Certified copy of Record of Rights", 20) == "Certified copy of…"
    assert len(out.shorten("ଜାତୀୟ ପାରିବାରିକ ସହାୟତା ଯୋଜନା ପାଇଁ ଆବେଦନ", 24)) <= 24


def valid(bodies):
    for body in bodies:
        assert validate_message(body) is None, (validate_message(body), body)


def test_up_to_three_buttons_become_reply_buttons_with_full_titles_kept():
    result = out.buttons_message("911", "Shall I submit?", [
        {"title": "Yes, submit the application now", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
    valid(result.bodies)
    interactive = result.bodies[-1]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["action"]["buttons"][0]["reply"] == {"id": "/affirm", "title": "Yes, submit the…"}
    assert "Yes, submit the application now" in interactive["body"]["text"]


def test_buttons_whose_short_titles_look_alike_become_a_list():
    """Three services that all shorten to "Society certificate…" must stay distinguishable."""
    buttons = [{"title": f"Society certificate copy ({kind})", "payload": f"/s{i}"}
               for i, kind in enumerate(["10 years, state", "5 years, district", "5 years, state"])]
    result = out.buttons_message("911", "Choose one", buttons)
    valid(result.bodies)
    interactive = result.bodies[-1]["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len({(r["title"], r.get("description")) for r in rows}) == 3
    assert all("years" in r["description"] for r in rows)


def test_four_to_ten_buttons_become_a_list_with_descriptions():
    buttons = [{"title": f"ସେବା ନମ୍ବର {i} ପାଇଁ ଏକ ବହୁତ ଲମ୍ବା ନାମ", "payload": f'/apply_service{{"service":"s{i}"}}'}
               for i in range(10)]
    result = out.buttons_message("911", "ଗୋଟିଏ ବାଛନ୍ତୁ", buttons)
    valid(result.bodies)
    action = result.bodies[-1]["interactive"]["action"]
    assert action["button"] == "ବାଛନ୍ତୁ"
    rows = action["sections"][0]["rows"]
    assert len(rows) == 10 and all(r["description"].startswith("ସେବା") for r in rows)


def test_more_than_ten_becomes_a_numbered_menu():
    buttons = [{"title": f"Service {i}", "payload": f"/s{i}"} for i in range(14)]
    result = out.buttons_message("911", "Pick", buttons)
    valid(result.bodies)
    assert "14. Service 13" in result.bodies[0]["text"]["body"]
    assert result.menu["14"] == "/s13"


def test_long_body_with_buttons_sends_the_lead_as_text_first():
    result = out.buttons_message("911", "word " * 500, [{"title": "Yes", "payload": "/affirm"}])
    valid(result.bodies)
    assert result.bodies[0]["type"] == "text" and result.bodies[-1]["type"] == "interactive"


def test_custom_json_passes_through_addressed():
    body = out.custom_message("911", {"type": "location", "location": {"latitude": 20.3, "longitude": 85.8}})
    valid([body])
    assert body["to"] == "911" and body["messaging_product"] == "whatsapp"


def test_mask_phone():
    assert mask_phone("919876543210") == "91******3210"
    assert "9876" not in mask_phone("919876543210")[:8]


@pytest.fixture
def fake():
    server = FakeGraph().start()
    for wa_id in ("911", "912"):  # the client tests answer these numbers: they wrote just now
        server.customer_wrote(wa_id, time.time())
    yield server
    server.stop()


def send(fake, body, **kwargs):
    async def go():
        client = GraphClient(fake.base_url, fake.access_token, "123", **{"backoff_base": 0.01, "backoff_cap": 0.05,
                                                                        **kwargs})
        try:
            return await client.send(body)
        finally:
            await client.close()
    return asyncio.run(go())


def test_client_retries_server_errors_and_throttling_then_delivers_once(fake):
    fake.fail("500", 2)
    fake.fail("429", 1)
    result = send(fake, out.text_messages("911", "hello")[0])
    assert result.ok and result.attempts == 4 and len(fake.sent) == 1


def test_client_does_not_retry_permanent_errors(fake, caplog):
    fake.fail("131047", 5)
    result = send(fake, out.text_messages("911", "hello")[0])
    assert not result.ok and result.error_code == 131047 and fake.attempts == 1
    assert "131047" in caplog.text and "9876" not in caplog.text


def test_client_gives_up_after_bounded_attempts(fake):
    fake.fail("500", 100)
    result = send(fake, out.text_messages("911", "hello")[0], max_attempts=3)
    assert not result.ok and fake.attempts == 3 and fake.sent == []


def test_fake_rejects_what_meta_rejects(fake):
    result = send(fake, {"messaging_product": "whatsapp", "to": "911", "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "x"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]}}})
    assert not result.ok and result.error_code == 100 and fake.rejected


def test_client_retries_a_send_that_timed_out_and_delivers_once(fake):
    fake.fail("hang", 1, delay=0.6)  # the first send never reaches "Meta"; the client stops waiting at 0.2 s
    result = send(fake, out.text_messages("911", "hello")[0], timeout=0.2)
    assert result.ok and result.attempts == 2 and len(fake.sent) == 1


def test_client_bridges_an_outage_of_mixed_errors(fake):
    fake.fail_for("429", 0.15)
    fake.fail_for("500", 0.3)  # 0.15 s of 429, then 500 until 0.3 s; the client waits at least 0.5 s in all
    result = send(fake, out.text_messages("911", "hello")[0], backoff_base=0.05, backoff_cap=0.2)
    assert result.ok and result.attempts > 2 and len(fake.sent) == 1


def test_outbox_keeps_each_citizens_order_without_holding_up_the_others(fake):
    fake.fail("slow", 1, delay=0.5)
    outbox = Outbox(GraphClient(fake.base_url, fake.access_token, "123"))
    futures = [outbox.post(out.text_messages("911", "911-0")[0])]
    deadline = time.monotonic() + 10
    while fake.attempts < 1 and time.monotonic() < deadline:  # 911's first send is at the fake, slowly
        time.sleep(0.01)
    futures += [outbox.post(out.text_messages(to, f"{to}-{n}")[0]) for n in range(5) for to in ("911", "912")
                if (to, n) != ("911", 0)]
    assert all(future.result(timeout=20).ok for future in futures)
    for to in ("911", "912"):
        assert [b["text"]["body"] for b in fake.messages_to(to)] == [f"{to}-{n}" for n in range(5)]
    order = [b["text"]["body"] for b in fake.sent]
    assert order.index("912-4") < order.index("911-0")  # 912's answers did not wait for 911's slow send
