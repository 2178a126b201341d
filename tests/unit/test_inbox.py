"""The inbox keeps acknowledged messages until they are handled (see channels/inbox.py)."""
import asyncio

from channels.inbox import PendingInbox
from channels.whatsapp_inbound import InboundMessage


def message(n, sender="919800000001", text="ମୋ ଆବେଦନ", timestamp=100):
    return InboundMessage(message_id=f"wamid.{n}", sender=sender, type="text", timestamp=timestamp, text=text,
                          profile_name="Ramesh")


def test_messages_survive_a_new_inbox_on_the_same_database_until_done(tmp_path):
    url = f"sqlite:///{tmp_path / 'apps.db'}"
    first = PendingInbox(url)
    asyncio.run(first.add([message(1, timestamp=101), message(2, timestamp=100), message(3, sender="911")]))
    asyncio.run(first.done("wamid.3"))
    after_restart = PendingInbox(url).left_over()
    assert after_restart == [message(2, timestamp=100), message(1, timestamp=101)]  # by WhatsApp's timestamp


def test_a_redelivery_keeps_the_first_copy(tmp_path):
    inbox = PendingInbox(f"sqlite:///{tmp_path / 'apps.db'}")
    asyncio.run(inbox.add([message(1, text="first")]))
    asyncio.run(inbox.add([message(1, text="second"), message(2)]))
    assert [(m.message_id, m.text) for m in inbox.left_over()] == [("wamid.1", "first"), ("wamid.2", "ମୋ ଆବେଦନ")]
    asyncio.run(inbox.done("wamid.1"))
    asyncio.run(inbox.done("wamid.2"))
    assert inbox.left_over() == []


def test_messages_acknowledged_at_the_same_moment_are_all_kept(tmp_path):
    inbox = PendingInbox(f"sqlite:///{tmp_path / 'apps.db'}")

    async def webhook_bursts():
        await asyncio.gather(*(inbox.add([message(n, timestamp=n)]) for n in range(60)),
                             *(inbox.add([message(n, text="re-delivered", timestamp=n)]) for n in range(0, 60, 7)))
    asyncio.run(webhook_bursts())
    kept = inbox.left_over()
    assert [m.message_id for m in kept] == [f"wamid.{n}" for n in range(60)]
    assert all(m.text == "ମୋ ଆବେଦନ" for m in kept)  # the first copy of each, however the writes were grouped
