"""The WhatsApp channel between a parsed webhook and Rasa, with a stand-in dialogue.

Real parts: the channel's SQLite stores, the fake Graph API over HTTP, seva.messages. Rasa is
replaced by a recorder of the ``UserMessage``s it would get (answering through the channel's
output), and the dialogue's state by the port's in-memory stand-in (KnownConversations).
A "restart" is a new channel object on the same database file."""
import asyncio
import json
import time

import pytest

from channels.conversation import KnownConversations, OpenQuestion
from channels.dedupe import SQLMessageLog
from channels.inbox import Inbox
from channels.menus import MenuStore
from channels.rate_limit import SenderRateLimiter
from channels.replies import ReplyJournal
from channels.whatsapp import WhatsAppInput
from channels.whatsapp_inbound import IGNORED_TYPES, parse
from fakegraph.server import FakeGraph, envelope, text
from seva import messages
from tests.unit.test_channel_edits import EDIT_CAPTION, EDIT_TEXT, REVOKE

CITIZEN = "919437000111"


@pytest.fixture
def fake():
    server = FakeGraph().start()
    # The citizens wrote just now: their webhooks are parsed here (deliver below), not
    # delivered by the fake, so it is told, or it would refuse the answers (131047).
    for wa_id in (CITIZEN, "911"):
        server.customer_wrote(wa_id, time.time())
    yield server
    server.stop()


class Dialogue:
    """What Rasa would be handed; answers "got: <text>", or with ``reply`` (None: no answer)."""

    def __init__(self, reply=lambda message: [("text", f"got: {message.text}")]):
        self.received = []
        self.reply = reply

    async def __call__(self, message):
        self.received.append(message)
        for kind, content in self.reply(message) or []:
            if kind == "text":
                await message.output_channel.send_text_message(message.sender_id, content)
            else:
                await message.output_channel.send_text_with_buttons(message.sender_id, "Pick one", content)


def channel(fake, url, conversations=None, burst=10):
    return WhatsAppInput("verify", "secret", fake.access_token, "123", api_base_url=fake.base_url,
                         message_log=SQLMessageLog(url), inbox=Inbox(url), replies=ReplyJournal(url),
                         menus=MenuStore(url),
                         rate_limiter=SenderRateLimiter(url, per_minute=1, burst=burst),
                         conversations=conversations or KnownConversations())


def deliver(whatsapp, dialogue, *items):
    """What the webhook does after the signature check, then wait until the work is done."""
    async def go():
        note = parse(envelope(list(items)))
        await whatsapp.inbox.add(m for m in note.messages if m.type not in IGNORED_TYPES)
        whatsapp._note(note)
        while await whatsapp.take_and_handle(dialogue) or whatsapp._tasks:
            await asyncio.gather(*list(whatsapp._tasks))
        await whatsapp.client.close()
    asyncio.run(go())


def said(fake):
    return [b["text"]["body"] for b in fake.messages_to(CITIZEN) if b["type"] == "text"]


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'seva.db'}"


def test_an_edit_reaches_rasa_as_its_new_text_marked_as_an_edit_of_the_original(fake, url):
    whatsapp, dialogue = channel(fake, url), Dialogue()
    deliver(whatsapp, dialogue, text(CITIZEN, "Khordha", wamid="wamid.answer1", ts=1697044000),
            dict(EDIT_TEXT, **{"from": CITIZEN}))
    first, edit = dialogue.received
    assert first.metadata["whatsapp"]["message_id"] == "wamid.answer1" and "edit_of" not in first.metadata["whatsapp"]
    assert (edit.text, edit.message_id) == ("ଖୋର୍ଦ୍ଧା", "wamid.edit1")
    assert {k: edit.metadata["whatsapp"][k] for k in ("message_id", "type", "edit_of")} == \
        {"message_id": "wamid.edit1", "type": "edit", "edit_of": "wamid.answer1"}
    assert said(fake) == ["got: Khordha", "got: ଖୋର୍ଦ୍ଧା"]
    assert whatsapp.inbox.waiting() == []


def test_an_edited_caption_is_an_edit_and_an_edit_without_text_is_not_answered(fake, url):
    whatsapp, dialogue = channel(fake, url), Dialogue()
    blank = dict(EDIT_CAPTION, id="wamid.edit3", edit={"original_message_id": "wamid.photo1",
                                                       "message": {"type": "sticker", "sticker": {"id": "9"}}})
    deliver(whatsapp, dialogue, dict(EDIT_CAPTION, **{"from": CITIZEN}), dict(blank, **{"from": CITIZEN}))
    assert [(m.text, m.metadata["whatsapp"]["edit_of"]) for m in dialogue.received] == \
        [("my ration card", "wamid.photo1")]
    assert said(fake) == ["got: my ration card"]  # nothing for the edit without text, no "can't take this"
    assert whatsapp.inbox.waiting() == []


def test_a_deleted_message_is_not_answered_and_not_kept(fake, url, caplog):
    whatsapp, dialogue = channel(fake, url), Dialogue()
    caplog.set_level("INFO", logger="channels.whatsapp")
    deliver(whatsapp, dialogue, dict(REVOKE, **{"from": CITIZEN}))
    assert dialogue.received == [] and fake.sent == [] and fake.reads == []
    assert whatsapp.inbox.waiting() == []
    assert "deleted message" in caplog.text and CITIZEN not in caplog.text  # logged, the number masked


def test_a_numbered_menu_is_remembered_across_a_restart(fake, url):
    buttons = [{"title": f"Service {n}", "payload": f'/apply_service{{"service":"s{n}"}}'} for n in range(1, 15)]
    deliver(channel(fake, url), Dialogue(lambda m: [("buttons", buttons)]), text(CITIZEN, "services", ts=1))
    assert "14. Service 14" in said(fake)[0]
    after_restart, dialogue = channel(fake, url), Dialogue()
    deliver(after_restart, dialogue, text(CITIZEN, " 3 ", ts=2), text(CITIZEN, "15", ts=3), text("911", "3", ts=4))
    texts = {sender: [m.text for m in dialogue.received if m.sender_id == sender] for sender in (CITIZEN, "911")}
    assert texts == {CITIZEN: ['/apply_service{"service":"s3"}', "15"], "911": ["3"]}  # 911 was sent no menu


def test_the_channels_own_messages_come_from_seva_messages_in_the_conversations_language(fake, url):
    port = KnownConversations({CITIZEN: OpenQuestion(language="or")})
    whatsapp = channel(fake, url, port, burst=1)
    deliver(whatsapp, Dialogue(lambda m: None), text(CITIZEN, "hello", ts=1), text(CITIZEN, "hello?", ts=2),
            text(CITIZEN, "hello??", ts=3))
    assert said(fake) == [messages.text("try_again", "or"), messages.text("rate_limited", "or")]  # warned once
    port.questions[CITIZEN] = OpenQuestion(language="hi")
    restarted = channel(fake, url, port, burst=1)  # the budget is in the database: still spent
    fake.reset()
    deliver(restarted, Dialogue(), text(CITIZEN, "फिर से", ts=4))
    assert said(fake) == []  # the same spell of refusals: not warned again


def test_without_a_conversation_language_the_message_is_in_the_language_of_the_text(fake, url):
    deliver(channel(fake, url), Dialogue(lambda m: None), text(CITIZEN, "मेरा आवेदन कहाँ है", ts=1))
    assert said(fake) == [messages.text("try_again", "hi")]


def test_every_forwarded_message_names_its_whatsapp_id(fake, url):
    dialogue = Dialogue()
    deliver(channel(fake, url), dialogue, text(CITIZEN, "one", wamid="wamid.1", ts=1),
            text(CITIZEN, "two", wamid="wamid.2", ts=2))
    assert [(m.message_id, m.metadata["whatsapp"]["message_id"], m.metadata["whatsapp"]["type"])
            for m in dialogue.received] == [("wamid.1", "wamid.1", "text"), ("wamid.2", "wamid.2", "text")]
    assert json.dumps(dialogue.received[0].metadata)  # what Rasa stores with the event must be JSON


def test_a_turn_that_hangs_is_given_up_with_an_apology_and_frees_the_citizens_queue(fake, url, monkeypatch):
    import channels.whatsapp as whatsapp_module

    monkeypatch.setattr(whatsapp_module, "TURN_TIMEOUT_SECONDS", 0.5)

    class Hanging(Dialogue):
        async def __call__(self, message):
            self.received.append(message)
            if message.text == "hang":
                await asyncio.sleep(3600)
            await super().__call__(message)

    whatsapp, dialogue = channel(fake, url), Hanging()
    deliver(whatsapp, dialogue, text(CITIZEN, "hang"), text(CITIZEN, "next"))
    assert said(fake) == [messages.text("try_again", "en"), "got: next"]
    assert whatsapp.inbox.waiting() == []


def test_a_database_error_leaves_the_message_to_be_taken_again_not_dropped(fake, url, monkeypatch):
    import sqlalchemy as sa

    import channels.whatsapp as whatsapp_module

    monkeypatch.setattr(whatsapp_module, "RETRY_SECONDS", 0.3)

    class FlakyDatabase(Dialogue):
        async def __call__(self, message):
            self.received.append(message)
            if len(self.received) == 1:
                raise sa.exc.OperationalError("select 1", {}, Exception("the server closed the connection"))
            await super().__call__(message)

    whatsapp, dialogue = channel(fake, url), FlakyDatabase()
    deliver(whatsapp, dialogue, text(CITIZEN, "hello"))
    assert said(fake) == [] and [m.message_id for m in whatsapp.inbox.waiting()] != []  # kept, not dropped
    time.sleep(0.4)
    deliver(whatsapp, dialogue)
    assert said(fake) == ["got: hello"] and whatsapp.inbox.waiting() == []
