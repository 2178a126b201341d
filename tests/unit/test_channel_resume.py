"""An instance dies while answering: the one that takes the message over answers it once.

The dead instance's state is written as it would have left it (a lease that runs out, the
message claimed, its replies written down or its turn in the conversation), then a second
channel on the same database takes the message. Real parts as in test_channel_flow.py."""
import asyncio
import time

import pytest

from channels.conversation import KnownConversations
from channels.dedupe import SQLMessageLog
from channels.inbox import Inbox
from channels.menus import MenuStore
from channels.rate_limit import SenderRateLimiter
from channels.replies import ReplyJournal
from channels.whatsapp import WhatsAppInput
from channels.whatsapp_inbound import parse
from channels.whatsapp_outbound import text_messages
from fakegraph.server import FakeGraph, envelope, status, text
from tests.unit.test_channel_flow import CITIZEN, Dialogue, said

LEASE = 0.2
GRACE = 0.5  # how long a takeover waits for Meta's status of a reply written down just before


@pytest.fixture
def fake():
    server = FakeGraph().start()
    server.customer_wrote(CITIZEN, time.time())  # their message is parsed here, not delivered by the fake
    yield server
    server.stop()


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'seva.db'}"


def instance(fake, url, conversations=None):
    return WhatsAppInput("verify", "secret", fake.access_token, "123", api_base_url=fake.base_url,
                         message_log=SQLMessageLog(url), inbox=Inbox(url, lease_seconds=LEASE),
                         replies=ReplyJournal(url, status_grace=GRACE), menus=MenuStore(url),
                         rate_limiter=SenderRateLimiter(url, per_minute=1, burst=10),
                         conversations=conversations or KnownConversations())


def died_holding(whatsapp, body, claimed=True):
    """``whatsapp`` took a message (and claimed it), then stopped; its lease has run out."""
    message = parse(envelope([text(CITIZEN, body)])).messages[0]
    asyncio.run(whatsapp.inbox.add([message]))
    assert [t.message.message_id for t in whatsapp.inbox.take(1)] == [message.message_id]
    if claimed:
        assert asyncio.run(whatsapp.log.claim(message.message_id))
    time.sleep(LEASE * 1.5)
    return message


def take_over(whatsapp, dialogue):
    async def go():
        while await whatsapp.take_and_handle(dialogue) or whatsapp._tasks:
            await asyncio.gather(*list(whatsapp._tasks))
        await whatsapp.client.close()
    asyncio.run(go())


def test_replies_written_down_are_sent_once_and_the_turn_is_not_run_again(fake, url):
    dead = instance(fake, url)
    message = died_holding(dead, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର")
    kept = [*text_messages(CITIZEN, "first, already sent"), *text_messages(CITIZEN, "second, not yet")]
    asyncio.run(dead.replies.keep(message.message_id, kept))
    asyncio.run(dead.replies.mark_sent(message.message_id, 0))
    dialogue = Dialogue()
    take_over(instance(fake, url), dialogue)
    assert dialogue.received == []
    assert said(fake) == ["second, not yet"]
    assert Inbox(url).waiting() == []


def test_a_turn_that_ended_before_its_replies_were_written_down_is_answered_from_the_conversation(fake, url):
    dead = instance(fake, url)
    message = died_holding(dead, "hello")
    conversations = KnownConversations()
    conversations.said[message.message_id] = [
        {"text": "Namaskar"}, {"text": "Pick one", "buttons": [{"title": "Odia", "payload": "/choose_language"}]}]
    dialogue = Dialogue()
    take_over(instance(fake, url, conversations), dialogue)
    assert dialogue.received == []
    sent = fake.messages_to(CITIZEN)
    assert [b["type"] for b in sent] == ["text", "interactive"]
    assert sent[0]["text"]["body"] == "Namaskar" and sent[1]["interactive"]["body"]["text"] == "Pick one"


def test_a_turn_that_never_ended_is_run_by_the_instance_that_takes_over(fake, url):
    dead = instance(fake, url)
    died_holding(dead, "hello")
    dialogue = Dialogue()
    take_over(instance(fake, url), dialogue)
    assert [m.text for m in dialogue.received] == ["hello"]
    assert said(fake) == ["got: hello"]


def test_a_message_taken_but_not_yet_claimed_is_answered_normally(fake, url):
    dead = instance(fake, url)
    died_holding(dead, "hello", claimed=False)
    dialogue = Dialogue()
    take_over(instance(fake, url), dialogue)
    assert said(fake) == ["got: hello"]


def test_a_redelivery_of_an_answered_message_is_not_answered_even_on_a_retry(fake, url):
    first = instance(fake, url)
    message = parse(envelope([text(CITIZEN, "hello")])).messages[0]
    assert asyncio.run(first.log.claim(message.message_id))  # answered long ago; the inbox row went
    asyncio.run(first.inbox.add([message]))  # Meta delivers it again
    first.inbox.take(1)  # and an instance dies holding it
    time.sleep(LEASE * 1.5)
    dialogue = Dialogue()
    take_over(instance(fake, url), dialogue)
    assert dialogue.received == [] and said(fake) == []


def test_a_reply_meta_reported_on_is_not_sent_again_one_it_never_took_is(fake, url):
    """The dead instance posted both replies but marked neither: Meta's status webhook for
    the first (its biz_opaque_callback_data) reached the other instance, none came for the
    second (Meta never took it)."""
    dead = instance(fake, url)
    message = died_holding(dead, "hello")
    kept = asyncio.run(dead.replies.keep(message.message_id, [
        *text_messages(CITIZEN, "taken by Meta"), *text_messages(CITIZEN, "never reached Meta")]))
    assert [body["biz_opaque_callback_data"] for _, body in kept] == [
        f"seva:0:{message.message_id}", f"seva:1:{message.message_id}"]
    alive = instance(fake, url)
    note = parse(envelope(statuses=[{**status("wamid.out1", CITIZEN, "sent"),
                                     "biz_opaque_callback_data": kept[0][1]["biz_opaque_callback_data"]}]))
    assert note.statuses[0].callback == f"seva:0:{message.message_id}"
    asyncio.run(alive._record_status(note.statuses[0]))
    dialogue = Dialogue()
    take_over(alive, dialogue)
    assert dialogue.received == [] and said(fake) == ["never reached Meta"]
