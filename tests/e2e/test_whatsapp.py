"""The WhatsApp channel against the real `rasa run` (trained model, real action server)
and the fake Graph API, all on free loopback ports.

Every test runs twice: with the stores in SQLite files (what `make run` uses), and with
both the application store and Rasa's tracker store in a fresh PostgreSQL database (the
cluster's stores; the test session's private server, tests/conftest.py).

Nothing here sleeps and hopes. A turn is over when the channel has finished the message
(its inbox row is gone: every reply sent, Stack.wait_answered); "no further reply" is
checked behind a later message from the same citizen (a barrier: one citizen's messages are
handled in order); "the voice note is being decoded" is the fake's record of its download."""
import concurrent.futures
import random
import re
import secrets
import signal
import time
import urllib.error
import urllib.request

import pytest

from fakegraph.server import (
    FakeGraph,
    button_reply,
    envelope,
    list_reply,
    media_message,
    meta_json,
    new_wamid,
    sign,
    status,
    text,
    validate_message,
)
from seva import messages
from seva.catalog import default_catalog
from speech.clips import FIXTURES
from tests.e2e.servers import MODEL, Stack
from tests.unit.helpers import say
from tests.unit.test_documents import writer_pdf

SECRET, VERIFY = "e2e-app-secret", "e2e-verify-token"
ANSWER_CLIPS = FIXTURES / "answers"
ODIA = re.compile(r"[\u0b00-\u0b7f]")
DEVANAGARI = re.compile(r"[\u0900-\u097f]")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request):
    """Where the module's stack keeps everything: None for SQLite files in its folder, or
    the URL of a fresh PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield None
        return
    postgres = request.getfixturevalue("postgres")  # started only when a PostgreSQL test runs
    name = f"e2e_whatsapp_{secrets.token_hex(4)}"
    yield postgres.fresh_database(name)
    connection = postgres.connect()
    try:
        connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


@pytest.fixture(scope="module")
def fake(store):
    """One fake Graph API per store: tests count the messages sent to their numbers."""
    server = FakeGraph(app_secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fake, store):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    stack = Stack.for_whatsapp(tmp_path_factory.mktemp("wa"), fake, SECRET, VERIFY, database_url=store,
                               WHATSAPP_GRAPH_TIMEOUT="2")
    try:
        stack.start_actions()
        stack.start_rasa()  # and points the fake's webhooks at it
        yield stack
    finally:
        stack.stop()


def wait_for(fake, wa_id, count, timeout=60.0):
    """The bodies sent to ``wa_id`` once there are at least ``count`` (or fail)."""
    try:
        fake.wait_until(lambda: len(fake.messages_to(wa_id)) >= count, timeout, f"{count} messages to {wa_id}")
    except TimeoutError:
        raise AssertionError(f"{wa_id}: expected {count} messages, got {fake.messages_to(wa_id)}") from None
    return fake.messages_to(wa_id)


def barrier(stack, fake, wa_id):
    """Every message to ``wa_id``, once everything ``wa_id`` sent so far is finished.

    A fresh message from the same citizen is handled after all their earlier ones and its
    reply goes out after theirs: once it is answered, nothing is still on its way to them.
    Its own reply (the last message) is "you are welcome"."""
    message = text(wa_id, "/thank")
    assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])
    sent = fake.messages_to(wa_id)
    assert sent and body_text(sent[-1]) == say("utter_you_are_welcome", "en"), sent
    return sent


def body_text(body):
    kind = body["type"]
    if kind == "text":
        return body["text"]["body"]
    if kind == "interactive":
        return body["interactive"]["body"]["text"]
    if kind == "document":
        return body["document"].get("caption") or ""
    return ""


def ask(stack, fake, wa_id, message, expect=1):
    """Send ``message``; the messages to ``wa_id`` since, once the channel has finished it
    (at least ``expect`` of them)."""
    before = len(fake.messages_to(wa_id))
    codes = fake.deliver(envelope([message]))
    assert codes[-1] == 200
    stack.wait_answered([message["id"]])
    replies = fake.messages_to(wa_id)[before:]
    assert len(replies) >= expect, (expect, replies)
    return replies


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, body, headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_verification_handshake(stack):
    base = stack.webhook_url
    code, body = http("GET", f"{base}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444")
    assert (code, body) == (200, b"1158201444")
    assert http("GET", f"{base}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")[0] == 403
    assert http("GET", base)[0] == 403


def test_signatures(stack, fake):
    payload = envelope([text("919800000001", "ମୋତେ ଆୟ / income")])
    fake.note_inbound(payload)  # this test plays Meta: the fake must know the citizen wrote, or refuse the reply
    raw = meta_json(payload)
    assert b"\\u" in raw and b"\\/" in raw
    headers = {"Content-Type": "application/json"}
    assert http("POST", stack.webhook_url, raw, headers)[0] == 401
    assert http("POST", stack.webhook_url, raw, {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64})[0] == 403
    other_app = sign(raw, "another-apps-secret")
    assert http("POST", stack.webhook_url, raw, {**headers, "X-Hub-Signature-256": other_app})[0] == 403
    assert http("POST", stack.webhook_url, raw, {**headers, "X-Hub-Signature-256": sign(raw, SECRET)})[0] == 200
    wait_for(fake, "919800000001", 1)


def test_bad_bodies_get_documented_codes_and_the_server_keeps_answering(stack, fake):
    def post(raw):
        return http("POST", stack.webhook_url, raw, {"X-Hub-Signature-256": sign(raw, SECRET)})[0]
    assert post(b"{not json") == 400
    assert post(b'{"object":"instagram","entry":[]}') == 400
    assert post(b"[1,2]") == 400
    assert post(b"x" * 2_000_000) == 413
    assert post(meta_json({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [{"id": 1}, {"type": "text"}]}}]}]})) == 200
    greeting = envelope([text("919800000002", "/greet")])
    fake.note_inbound(greeting)  # posted here, not by the fake: tell it the citizen wrote
    assert post(meta_json(greeting)) == 200
    wait_for(fake, "919800000002", 2)


def test_a_whole_odia_application_through_the_webhook(stack, fake):
    me = "919437000333"
    replies = ask(stack, fake, me, text(me, "ନମସ୍କାର"), expect=2)
    assert ODIA.search(body_text(replies[0])) and replies[0]["type"] == "interactive"
    replies = ask(stack, fake, me, text(me, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"), expect=3)
    assert "(1/5)" in body_text(replies[-1])
    for answer, step in [("ରମେଶ ସାହୁ", "(2/5)"), ("ଗୋପାଳ ସାହୁ", "(3/5)"), ("କଟକ", "(4/5)"), ("୬୦୦୦୦", "(5/5)")]:
        replies = ask(stack, fake, me, text(me, answer))
        assert step in body_text(replies[-1]), replies
    choice = replies[-1]["interactive"]
    assert choice["type"] == "list"  # four purposes: a list, within Meta's limits
    row = next(r for r in choice["action"]["sections"][0]["rows"] if r["id"] == "education")
    replies = ask(stack, fake, me, list_reply(me, row["id"], row["title"]))
    summary = replies[-1]["interactive"]
    assert summary["type"] == "button" and "₹60,000" in summary["body"]["text"]
    yes = summary["action"]["buttons"][0]["reply"]
    replies = ask(stack, fake, me, button_reply(me, yes["id"], yes["title"]))
    done = body_text(replies[-2])  # the confirmation, then the receipt (a PDF document)
    assert re.search(r"ORT-\w{4}-\w{4}", done) and ODIA.search(done)
    assert replies[-1]["type"] == "document" and replies[-1]["document"]["filename"].endswith(".pdf")
    assert all(validate_message(b) is None for b in fake.messages_to(me))
    assert not [r for r in fake.rejected if r[1].get("to") == me]


def test_each_inbound_message_is_marked_read_with_typing(stack, fake):
    me = "919800000003"
    message = text(me, "/thank")
    ask(stack, fake, me, message)
    reads = [r for r in fake.reads if r["message_id"] == message["id"]]
    assert reads and reads[0]["typing_indicator"] == {"type": "text"}


def test_duplicates_sequential_concurrent_and_after_restart_get_one_reply(stack, fake):
    me = "919800000004"
    message = text(me, "/thank", wamid=new_wamid())
    ask(stack, fake, me, message)
    assert fake.deliver(envelope([message]))[-1] == 200  # Meta re-delivers
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # and at the same moment
        codes = list(pool.map(lambda _: fake.deliver(envelope([message]), retries=0)[-1], range(4)))
    assert codes == [200] * 4
    assert len(barrier(stack, fake, me)) == 2  # the one reply, and the barrier's
    stack.stop_rasa()
    stack.start_rasa()
    assert fake.deliver(envelope([message]))[-1] == 200
    assert len(barrier(stack, fake, me)) == 3  # and nothing to the re-delivery after the restart


def test_fifty_senders_five_messages_each_concurrently(stack, fake):
    script = ["/greet", "/list_services", "/human_help", "/thank", "/goodbye"]
    senders = [f"9198000{n:05d}" for n in range(100, 150)]
    expected = ["greet", "greet", "list", "help", "thanks", "bye"]

    def citizen(wa_id):
        ids = []
        for step in script:  # one after another: each is acknowledged before the next is sent
            message = text(wa_id, step)
            assert fake.deliver(envelope([message]), retries=5)[-1] == 200
            ids.append(message["id"])
        return ids
    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        ids = [i for sent in pool.map(citizen, senders) for i in sent]
    stack.wait_answered(ids, timeout=300)  # distinct messages: when all are finished, all replies are out
    for wa_id in senders:
        sent = fake.messages_to(wa_id)
        kinds = []
        for body in sent:
            t = body_text(body)
            kinds.append("greet" if "Namaskar" in t or "What would you like" in t else
                         "list" if "department" in t else "help" if "helpline" in t else
                         "thanks" if "welcome" in t else "bye" if "Goodbye" in t else t[:20])
        assert kinds == expected, (wa_id, kinds)


def test_a_graph_outage_of_errors_throttling_and_timeouts_then_each_reply_arrives_once(stack, fake):
    """The next six sends fail, whenever they come: two 500s, two 429s, then two requests
    that hang past the client's 2 s timeout without reaching "Meta". Three citizens write
    meanwhile; each reply is retried through the outage and arrives once."""
    people = [f"91980000050{n}" for n in range(3)]
    outage = ["500", "500", "429", "429", "hang", "hang"]
    for mode in dict.fromkeys(outage):
        fake.fail(mode, outage.count(mode), delay=3.0 if mode == "hang" else 0.0)
    refused_before = len(fake.refused)
    messages = [text(me, "/thank") for me in people]
    for message in messages:
        assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([m["id"] for m in messages])  # sent in the end, or given up
    assert [mode for mode, _ in fake.refused[refused_before:]] == outage  # the outage happened, to these sends
    assert {body["to"] for _, body in fake.refused[refused_before:]} <= set(people)
    for me in people:
        assert [body_text(b) for b in fake.messages_to(me)] == [say("utter_you_are_welcome", "en")], me
    assert "retrying" in stack.log_text() and "gave up" not in stack.log_text()


def test_closed_window_error_is_logged_not_retried(stack, fake):
    me = "919800000006"
    attempts = fake.attempts
    fake.fail("131047", 1)
    message = text(me, "/thank")
    assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])  # its reply was sent or given up: no retry can follow
    assert "131047" in stack.log_text()
    assert fake.attempts - attempts <= 2  # the failed send (not retried) and at most the read receipt
    assert fake.messages_to(me) == []
    assert me not in stack.log_text() and "91******0006" in stack.log_text()
    replies = ask(stack, fake, me, text(me, "/thank"))  # the conversation goes on
    assert [body_text(b) for b in replies] == [say("utter_you_are_welcome", "en")]


@pytest.mark.parametrize("kind", ["location", "sticker", "contacts", "unsupported"])
def test_other_message_types_get_a_short_reply(stack, fake, kind):
    me = f"9198000001{['image', 'location', 'document', 'sticker', 'contacts', 'unsupported'].index(kind):02d}"
    message = media_message(me, kind)
    replies = ask(stack, fake, me, message)
    assert "I can only read text messages" in body_text(replies[0])


def test_a_photo_with_no_application_waiting_is_explained_and_lost_media_is_said(stack, fake):
    """Photos and PDFs are documents for an application (tests/e2e/test_documents.py): with
    none waiting for one the citizen is told when to send them; media WhatsApp no longer has
    is asked for again."""
    me = "919800000100"
    photo = fake.add_media(writer_pdf(), "application/pdf", "form.pdf")
    replies = ask(stack, fake, me, media_message(me, "document", photo, mime_type="application/pdf",
                                                 filename="form.pdf"))
    assert [body_text(b) for b in replies] == [say("utter_document_not_expected", "en")]
    replies = ask(stack, fake, me, media_message(me, "image", "404404"))
    assert [body_text(b) for b in replies] == [say("utter_document_refused_not_received", "en")]


def test_reactions_are_ignored_and_statuses_never_reach_rasa(stack, fake):
    me = "919800000007"
    reaction = {"from": me, "id": new_wamid(), "timestamp": "1", "type": "reaction",
                "reaction": {"message_id": "wamid.x", "emoji": "👍"}}
    assert fake.deliver(envelope([reaction]))[-1] == 200
    failed = status("wamid.sent1", me, "failed", 131047)
    assert fake.deliver(envelope(statuses=[failed, status("wamid.sent2", me, "delivered")]))[-1] == 200
    assert len(barrier(stack, fake, me)) == 1  # the barrier's reply only
    deadline = time.monotonic() + 10
    rows = []
    while time.monotonic() < deadline and len(rows) < 2:
        rows = stack.query("select status, error_code from whatsapp_statuses where message_id like 'wamid.sent%'")
        time.sleep(0.1)
    assert sorted(tuple(row) for row in rows) == [("delivered", None), ("failed", 131047)]


def voice(fake, sender, clip_name):
    media_id = fake.add_media((FIXTURES / clip_name).read_bytes())
    return media_message(sender, "audio", media_id, mime_type="audio/ogg; codecs=opus", voice=True)


def test_english_voice_note_is_echoed_and_starts_the_income_certificate_form(stack, fake):
    me = "919800000021"  # first message ever: no language yet, so speech detects English
    replies = ask(stack, fake, me, voice(fake, me, "en_income.ogg"), expect=4)
    assert body_text(replies[0]).startswith("🎤 I heard: “I want to apply for an income certificate")
    assert "income certificate" in body_text(replies[1]).lower()  # the service card
    assert body_text(replies[-1]).startswith("(1/5)")  # the form's first question


def test_a_hindi_voice_note_is_matched_not_transcribed_and_answered_in_hindi(stack, fake):
    me = "919800000022"
    ask(stack, fake, me, text(me, "नमस्ते"), expect=2)
    replies = ask(stack, fake, me, voice(fake, me, "hi_income.ogg"))
    assert not body_text(replies[0]).startswith("🎤 मैंने सुना")  # never a garbage Hindi transcript
    assert body_text(replies[0]).startswith("🎤")  # what was understood, or that it was not
    assert all(DEVANAGARI.search(body_text(r)) for r in replies), replies


# Citizens who speak every answer a voice note can give on the base model: the service,
# the district, a yes/no question and the confirmation (clips: speech/fixtures/answers).
VOICE_CITIZENS = {
    "or": dict(me="919437000601", hello="ନମସ୍କାର", name="ସୁନୀତା ପ୍ରଧାନ", deceased="ରମେଶ ପ୍ରଧାନ",
               service="or_service_national_family_benefit_scheme_02124bc9_r2.ogg",
               district=("or_district_jagatsinghpur_a19fbc69_r4.ogg", "jagatsinghpur"),
               yes="or_yes_no_yes_cdc2f4c9_r2.ogg", script=ODIA),
    "hi": dict(me="919800000601", hello="नमस्ते", name="सुनीता देवी", deceased="रमेश कुमार",
               service="hi_service_national_family_benefit_scheme_7b1ff912_r2.ogg",
               district=("hi_district_malkangiri_05eb8a08_r0.ogg", "malkangiri"),
               yes="hi_yes_no_yes_53dbff78_r2.ogg", script=DEVANAGARI),
}


def spoken_answer(fake, sender, clip_name):
    media_id = fake.add_media((ANSWER_CLIPS / clip_name).read_bytes())
    return media_message(sender, "audio", media_id, mime_type="audio/ogg; codecs=opus", voice=True)


@pytest.mark.parametrize("lang", ["or", "hi"])
def test_a_citizen_applies_by_voice_service_district_yes_and_confirmation(stack, fake, lang):
    citizen = VOICE_CITIZENS[lang]
    me, catalog = citizen["me"], default_catalog()
    service = catalog.get("national_family_benefit_scheme")
    ask(stack, fake, me, text(me, citizen["hello"]), expect=2)
    # the spoken request starts the right service
    replies = ask(stack, fake, me, spoken_answer(fake, me, citizen["service"]), expect=3)
    assert body_text(replies[0]) == messages.text("voice_understood", lang, choice=service.name(lang)), replies
    assert "(1/6)" in body_text(replies[-1])
    assert "(2/6)" in body_text(ask(stack, fake, me, text(me, citizen["name"]))[-1])
    # the district, by voice: shown as taken, with the way to take it back
    clip, district = citizen["district"]
    replies = ask(stack, fake, me, spoken_answer(fake, me, clip), expect=2)
    assert body_text(replies[0]) == messages.text("voice_chose_undo", lang,
                                           choice=catalog.districts[district].name(lang)), replies
    assert "(3/6)" in body_text(replies[-1])
    for typed, step in [(citizen["deceased"], "(4/6)"), ("12/03/2024", "(5/6)"), ("45", "(6/6)")]:
        assert step in body_text(ask(stack, fake, me, text(me, typed))[-1])
    # a yes/no question answered by voice
    replies = ask(stack, fake, me, spoken_answer(fake, me, citizen["yes"]), expect=2)
    assert body_text(replies[0]).startswith("🎤") and citizen["script"].search(body_text(replies[0]))
    summary = replies[-1]
    assert summary["type"] == "interactive" and catalog.districts[district].name(lang) in body_text(summary)
    # the confirmation, by voice
    replies = ask(stack, fake, me, spoken_answer(fake, me, citizen["yes"]), expect=2)
    done = " ".join(body_text(r) for r in replies)  # the confirmation and the receipt's caption
    assert re.search(r"ORT-\w{4}-\w{4}", done) and citizen["script"].search(done), replies
    assert all(validate_message(b) is None for b in fake.messages_to(me))


def test_speech_that_answers_nothing_gets_the_choices_again_never_a_transcript(stack, fake):
    me = "919437000602"
    ask(stack, fake, me, text(me, "ନମସ୍କାର"), expect=2)
    replies = ask(stack, fake, me, text(me, "ମୋତେ ଜାତୀୟ ପାରିବାରିକ ସହାୟତା ଯୋଜନା ଦରକାର"), expect=3)
    assert "(1/6)" in body_text(replies[-1])
    ask(stack, fake, me, text(me, "ସୁନୀତା ପ୍ରଧାନ"))
    replies = ask(stack, fake, me, spoken_answer(fake, me, "or_none_none_45258609_r0.ogg"), expect=2)  # the weather
    assert body_text(replies[0]) == say("utter_voice_unclear", "or"), replies
    assert "(2/6)" in body_text(replies[-1])  # the district question again
    assert not any("🎤" in body_text(r) and ("“" in body_text(r)) for r in replies)


def test_another_users_text_is_answered_while_a_long_voice_note_is_transcribed(stack, fake):
    talker, typist = "919800000023", "919800000024"
    note = voice(fake, talker, "long_speech.ogg")
    assert fake.deliver(envelope([note]))[-1] == 200
    fake.wait_for_download(note["audio"]["id"])  # the channel has the voice note: decoding begins
    replies = ask(stack, fake, typist, text(typist, "hello"), expect=1)
    assert replies and fake.messages_to(talker) == []  # answered while the long note is still decoding
    echo = wait_for(fake, talker, 1, timeout=120)[0]
    assert body_text(echo).startswith("🎤 I heard:") and "scholarship" in body_text(echo)


def test_unusable_voice_notes_get_a_clear_reply_in_the_users_language(stack, fake):
    me = "919800000025"
    ask(stack, fake, me, text(me, "ନମସ୍କାର"), expect=2)
    for clip, kind in [("corrupt.ogg", "corrupt"), ("too_long.ogg", "too_long"), ("not_audio.ogg", "not_audio"),
                       ("silent.ogg", "silent")]:
        replies = ask(stack, fake, me, voice(fake, me, clip))
        assert body_text(replies[0]) == say(f"utter_voice_{kind}", "or", seconds="120", megabytes="16"), clip
    big = fake.add_media(b"OggS" + b"\0" * (16 * 1024 * 1024 + 1))
    replies = ask(stack, fake, me, media_message(me, "audio", big, mime_type="audio/ogg", voice=True))
    assert body_text(replies[0]) == say("utter_voice_too_large", "or", seconds="120", megabytes="16")
    replies = ask(stack, fake, me, text(me, "ମୋ ଆବେଦନର ସ୍ଥିତି"))  # the conversation goes on
    assert replies and ODIA.search(body_text(replies[-1]))
    assert "Traceback" not in stack.log_text()


def test_a_duplicate_storm_gets_one_reply_per_message(stack, fake):
    """20 messages from 4 citizens, each re-delivered 5 times, all interleaved and
    concurrent (Meta retrying while its earlier attempts are still in flight)."""
    senders = [f"9198000{n:05d}" for n in range(200, 204)]
    messages = [text(wa_id, "/thank", wamid=new_wamid()) for wa_id in senders for _ in range(5)]
    deliveries = [m for m in messages for _ in range(5)]
    random.Random(7).shuffle(deliveries)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda m: fake.deliver(envelope([m]), retries=3)[-1], deliveries))
    assert codes == [200] * len(deliveries)
    for wa_id in senders:
        assert len(barrier(stack, fake, wa_id)) == 5 + 1, wa_id  # one reply per message, and the barrier's


def test_a_flood_from_one_number_does_not_starve_another(stack, fake):
    """One number sends 60 messages at once while another citizen writes 5, one at a time.
    The flooder gets its burst answered and one notice to wait; the citizen gets every
    reply. The citizen's reply times with and without the flood are printed."""
    flooder, citizen = "919800000300", "919800000301"

    def timed_turns(wa_id, n):
        times = []
        for _ in range(n):
            before = len(fake.messages_to(wa_id))
            start = time.monotonic()
            assert fake.deliver(envelope([text(wa_id, "/thank")]))[-1] == 200
            wait_for(fake, wa_id, before + 1)  # the reply arrived
            times.append(round(time.monotonic() - start, 3))
        return times

    baseline = timed_turns(citizen, 3)
    start = time.monotonic()
    flood_messages = [text(flooder, "/thank") for _ in range(60)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        flood = pool.map(lambda m: fake.deliver(envelope([m]), retries=3)[-1], flood_messages)
        during = timed_turns(citizen, 5)
        assert list(flood) == [200] * 60
    stack.wait_answered([m["id"] for m in flood_messages])
    elapsed = time.monotonic() - start
    replies = [body_text(b) for b in fake.messages_to(flooder)]
    notice = messages.text("rate_limited", "en")
    print(f"\ncitizen reply s: before the flood {sorted(baseline)}, during {sorted(during)};"
          f" flooder: {len(replies)} replies to 60 messages in {elapsed:.1f} s")
    assert replies.count(notice) == 1
    assert len(replies) - 1 <= 10 + elapsed / 3 + 1  # burst 10, then one per 3 s
    assert len(during) == 5 and len(fake.messages_to(citizen)) == 8  # every citizen message answered once


def tap(stack, fake, me, reply, button=0):
    """Tap a reply button (or list row) of the interactive message ``reply``."""
    action = reply["interactive"]["action"]
    if "buttons" in action:
        choice = action["buttons"][button]["reply"]
        return ask(stack, fake, me, button_reply(me, choice["id"], choice["title"]))
    row = action["sections"][0]["rows"][button]
    return ask(stack, fake, me, list_reply(me, row["id"], row["title"]))


def applications_of(stack, me):
    # [] before the action server creates the table with the first application
    return stack.query("select reference from applications where sender_id = :me", me=me)


def test_action_server_down_gets_an_apology_and_leaves_no_half_application(stack, fake):
    me = "919800000400"
    ask(stack, fake, me, text(me, "नमस्ते"), expect=2)
    ask(stack, fake, me, text(me, "मुझे आय प्रमाण पत्र चाहिए"), expect=3)
    ask(stack, fake, me, text(me, "सुनीता देवी"))
    ask(stack, fake, me, text(me, "रामलाल"))
    stack.stop_actions(signal.SIGKILL)
    sorry = messages.text("try_again", "hi")
    replies = ask(stack, fake, me, text(me, "कटक"))  # mid-form, while the action server is down
    assert [body_text(b) for b in replies] == [sorry]
    stack.start_actions()
    replies = ask(stack, fake, me, text(me, "कटक"))  # sent again: the form goes on from the same question
    assert "(4/5)" in body_text(replies[-1]) and DEVANAGARI.search(body_text(replies[-1]))
    replies = ask(stack, fake, me, text(me, "60000"))
    summary = tap(stack, fake, me, replies[-1])[-1]
    assert summary["type"] == "interactive" and "₹60,000" in body_text(summary)
    stack.stop_actions(signal.SIGKILL)
    assert [body_text(b) for b in tap(stack, fake, me, summary)] == [sorry]  # "yes" while it is down
    assert applications_of(stack, me) == []
    stack.start_actions()
    done = " ".join(body_text(r) for r in tap(stack, fake, me, summary))
    assert re.search(r"ORT-\w{4}-\w{4}", done) and DEVANAGARI.search(done)
    assert len(applications_of(stack, me)) == 1
    assert "Traceback" not in stack.log_text("actions")


def test_rasa_killed_mid_form_resumes_and_no_acknowledged_message_is_dropped(stack, fake):
    """`rasa run` is killed while it transcribes a long voice note, with a typed answer
    acknowledged and queued behind it. The restarted process takes the voice note over when
    the dead one's lease runs out (channels/inbox.py) and resumes it: the citizen is not
    asked to repeat it, its answer comes once, and then the typed answer's: the form goes
    on from where it was."""
    me = "919437000401"
    ask(stack, fake, me, text(me, "ନମସ୍କାର"), expect=2)
    ask(stack, fake, me, text(me, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"), expect=3)
    ask(stack, fake, me, text(me, "ରମେଶ ସାହୁ"))
    replies = ask(stack, fake, me, text(me, "ଗୋପାଳ ସାହୁ"))
    assert "(3/5)" in body_text(replies[-1])
    before = len(fake.messages_to(me))
    note = voice(fake, me, "long_speech.ogg")
    typed = text(me, "କଟକ")
    assert fake.deliver(envelope([note]))[-1] == 200
    assert fake.deliver(envelope([typed]))[-1] == 200
    fake.wait_for_download(note["audio"]["id"])  # its handling has begun: the channel has the audio
    assert len(fake.messages_to(me)) == before  # 50 s of speech being decoded; the answer waits behind it
    log_before = len(stack.log_text())
    stack.stop_rasa(signal.SIGKILL)
    stack.start_rasa()
    stack.wait_answered([note["id"], typed["id"]], timeout=180)  # decoded again after the restart
    replies = fake.messages_to(me)[before:]
    said = [body_text(b) for b in replies]
    # the voice note's own answer (the long English speech matches no district: the choices
    # it came closest to, or "not understood"), once; the district question again; then the
    # typed district's answer: the next question
    assert len(said) == 3, said
    assert said[0] in (say("utter_voice_suggest", "or"), say("utter_voice_unclear", "or")), said
    assert "(3/5)" in said[1] and "(4/5)" in said[2] and ODIA.search(said[2]), said
    assert all(validate_message(b) is None for b in replies)
    after = stack.log_text()[log_before:]
    assert "stopped before finishing; resuming (attempt 2)" in after, after[-3000:]
    assert after.count("Voice note from 91******0401") == 1  # transcribed once after the restart


def test_reference_numbers_cannot_be_enumerated_through_the_webhook(stack, fake):
    """Another number asking for a real reference gets exactly the answer a made-up one gets."""
    owner, prober = "919800000402", "919800000403"
    ask(stack, fake, owner, text(owner, "hello"), expect=2)
    ask(stack, fake, owner, text(owner, "I need an income certificate"), expect=3)
    replies = None
    for answer in ["Anita Das", "Bikash Das", "Puri", "45000"]:
        replies = ask(stack, fake, owner, text(owner, answer))
    summary = tap(stack, fake, owner, replies[-1])[-1]
    reference = re.search(r"ORT-\w{4}-\w{4}", body_text(tap(stack, fake, owner, summary)[0])).group(0)
    made_up = "ORT-" + "".join("7" if c.isdigit() else "K" if c.isalpha() else c for c in reference[4:])
    ask(stack, fake, prober, text(prober, "hello"), expect=2)
    answers = {}
    for guess in [reference, made_up]:
        replies = ask(stack, fake, prober, text(prober, f"What is the status of {guess}?"))
        answers[guess] = [body_text(b).replace(guess, "<ref>") for b in replies]
    assert answers[reference] == answers[made_up]
    shown = " ".join(answers[reference])
    assert "Anita" not in shown and "Puri" not in shown and "45,000" not in shown
    mine = body_text(ask(stack, fake, owner, text(owner, f"What is the status of {reference}?"))[-1])
    assert reference in mine and mine not in answers[reference]


def test_logs_never_show_a_phone_number_or_an_answer_in_full(stack, fake):
    """Runs after the tests above: every sender, name and answer they used is in the logs
    only masked (INFO is the default level of both servers)."""
    logs = stack.log_text("rasa") + stack.log_text("actions")
    assert "WhatsApp" in logs  # the channel did log, at INFO
    numbers = {m.get("to") for m in fake.sent if m.get("to")}
    assert len(numbers) >= 50
    leaked = sorted(n for n in numbers if n in logs)
    assert not leaked, leaked[:5]
    for personal in ["ରମେଶ ସାହୁ", "ଗୋପାଳ ସାହୁ", "୬୦୦୦୦", "सुनीता देवी", "Anita Das", "Bikash Das"]:  # answers
        assert personal not in logs, personal


# ------------------------------------------------------------------ a citizen never stuck
def edit_of(sender, original_id, body):
    """A WhatsApp ``edit`` update (shape of pywa's tests/data/updates/edit_message.json)."""
    return {"from": sender, "id": new_wamid(), "timestamp": str(int(time.time())), "type": "edit",
            "edit": {"original_message_id": original_id, "message": {"type": "text", "text": {"body": body}}}}


def test_a_stuck_district_gets_a_list_a_hello_is_no_answer_and_an_edit_changes_the_last_answer(stack, fake):
    me = "919437000444"
    ask(stack, fake, me, text(me, "I want an income certificate"), expect=2)
    ask(stack, fake, me, text(me, "Ramesh Sahoo"))
    assert "(3/5)" in body_text(ask(stack, fake, me, text(me, "Gopal Sahoo"))[-1])
    offer = ask(stack, fake, me, text(me, "hello"))  # a greeting is not a district
    assert offer[0]["type"] == "interactive" and "income" in body_text(offer[0]).lower()
    assert [b["reply"]["id"] for b in offer[0]["interactive"]["action"]["buttons"]] == ["/resume_form", "/switch_form"]
    ask(stack, fake, me, text(me, "zzz qqq"))
    stuck = ask(stack, fake, me, text(me, "Kottac"))[-1]
    rows = stuck["interactive"]["action"]["sections"][0]["rows"]
    assert stuck["interactive"]["type"] == "list" and len(rows) <= 10
    assert rows[0]["id"] == "cuttack" and [r["id"] for r in rows[-2:]] == ["/cancel", "/human_help"]
    district = list_reply(me, "puri", "Puri")
    assert "(4/5)" in body_text(ask(stack, fake, me, district)[-1])
    changed = ask(stack, fake, me, edit_of(me, district["id"], "Cuttack"), expect=2)
    assert "Cuttack" in body_text(changed[0]) and "(4/5)" in body_text(changed[-1])
    assert all(validate_message(b) is None for b in fake.messages_to(me))
