"""The inbox: acknowledged messages kept until answered, and taken by one instance at a time
(channels/inbox.py). Each test runs on SQLite and on a real PostgreSQL (the cluster's store);
two ``Inbox`` objects on one database are two instances."""
import asyncio
import threading
import time
from collections import defaultdict

import pytest

from channels.inbox import Inbox
from channels.whatsapp_inbound import InboundMessage


def message(n, sender="919800000001", text="ମୋ ଆବେଦନ", timestamp=100):
    return InboundMessage(message_id=f"wamid.{n}", sender=sender, type="text", timestamp=timestamp, text=text,
                          profile_name="Ramesh")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'apps.db'}"
    return request.getfixturevalue("postgres").fresh_database(f"inbox_{tmp_path.name[-20:].lower()}")


def ids(taken):
    return [t.message.message_id for t in taken]


def test_messages_survive_a_new_inbox_on_the_same_database_until_done(url):
    first = Inbox(url)
    asyncio.run(first.add([message(1, timestamp=101), message(2, timestamp=100), message(3, sender="911")]))
    assert ids(first.take(10)) == ["wamid.2", "wamid.3"]  # the head of each sender's queue
    asyncio.run(first.done("wamid.3"))
    after_restart = Inbox(url).waiting()
    assert after_restart == [message(2, timestamp=100), message(1, timestamp=101)]  # by WhatsApp's timestamp


def test_a_redelivery_keeps_the_first_copy(url):
    inbox = Inbox(url)
    asyncio.run(inbox.add([message(1, text="first")]))
    asyncio.run(inbox.add([message(1, text="second"), message(2)]))
    assert [(m.message_id, m.text) for m in inbox.waiting()] == [("wamid.1", "first"), ("wamid.2", "ମୋ ଆବେଦନ")]


def test_messages_acknowledged_at_the_same_moment_are_all_kept(url):
    inbox = Inbox(url)

    async def webhook_bursts():
        await asyncio.gather(*(inbox.add([message(n, timestamp=n)]) for n in range(60)),
                             *(inbox.add([message(n, text="re-delivered", timestamp=n)]) for n in range(0, 60, 7)))
    asyncio.run(webhook_bursts())
    kept = inbox.waiting()
    assert [m.message_id for m in kept] == [f"wamid.{n}" for n in range(60)]
    assert all(m.text == "ମୋ ଆବେଦନ" for m in kept)  # the first copy of each, however the writes were grouped


def test_one_citizens_messages_are_taken_one_at_a_time_in_order_by_any_instance(url):
    a, b = Inbox(url, owner="a"), Inbox(url, owner="b")
    asyncio.run(a.add([message(1), message(2), message(3, sender="911")]))
    assert ids(a.take(10)) == ["wamid.1", "wamid.3"]
    assert b.take(10) == []  # wamid.2 waits behind wamid.1, which a holds
    asyncio.run(b.done("wamid.1"))  # only the holder can finish it
    assert b.take(10) == []
    asyncio.run(a.done("wamid.1"))
    taken = b.take(10)
    assert ids(taken) == ["wamid.2"] and taken[0].attempts == 1


def test_a_dead_instances_lease_runs_out_and_another_takes_the_message_as_a_retry(url):
    dead, alive = Inbox(url, owner="dead", lease_seconds=0.3), Inbox(url, owner="alive")
    asyncio.run(dead.add([message(1), message(2)]))
    assert ids(dead.take(10)) == ["wamid.1"]
    assert alive.take(10) == []
    time.sleep(0.4)
    taken = alive.take(10)
    assert ids(taken) == ["wamid.1"] and taken[0].attempts == 2  # resumed, not new
    asyncio.run(dead.done("wamid.1"))  # the dead one's late "done" changes nothing
    assert [m.message_id for m in alive.waiting()] == ["wamid.1", "wamid.2"]


def test_a_live_instance_renews_the_leases_it_is_working_on_and_keeps_those_messages(url):
    busy, other = Inbox(url, owner="busy", lease_seconds=1.0), Inbox(url, owner="other")
    asyncio.run(busy.add([message(1), message(2, sender="911")]))
    assert len(busy.take(10)) == 2
    time.sleep(0.5)
    assert busy.renew(["wamid.1"]) == 1  # still working on wamid.1; wamid.2 was left unfinished
    time.sleep(0.65)  # wamid.2's lease has run out, wamid.1's renewed one has not
    assert ids(other.take(10)) == ["wamid.2"]
    assert busy.release_all() == 1  # a clean stop gives wamid.1 back at once
    assert ids(other.take(10)) == ["wamid.1"]


def test_a_message_let_go_after_a_database_error_is_taken_again_later(url):
    first, second = Inbox(url, owner="first"), Inbox(url, owner="second")
    asyncio.run(first.add([message(1)]))
    first.take(1)
    first.let_go("wamid.1", 0.3)
    assert second.take(10) == []
    time.sleep(0.4)
    taken = second.take(10)
    assert ids(taken) == ["wamid.1"] and taken[0].attempts == 2


def test_the_depth_and_the_age_of_the_oldest(url):
    inbox = Inbox(url)
    assert inbox.depth() == (0, 0.0)
    asyncio.run(inbox.add([message(1), message(2, sender="911")]))
    time.sleep(0.2)
    count, age = inbox.depth()
    assert count == 2 and 0.2 <= age < 30


def test_instances_taking_at_once_never_overlap_a_citizen_and_keep_each_citizens_order(url):
    """Four instances (threads, each with its own connections) drain 20 citizens × 6 messages."""
    inboxes = [Inbox(url, owner=f"i{n}") for n in range(4)]
    senders = [f"9198000{n:05d}" for n in range(20)]
    asyncio.run(inboxes[0].add([message(f"{s}.{k}", sender=s, timestamp=100 + k) for s in senders for k in range(6)]))
    holding, handled, overlaps = {}, defaultdict(list), []
    lock = threading.Lock()

    def instance(inbox):
        idle = 0
        while idle < 20:
            taken = inbox.take(3)
            if not taken:
                idle += 1
                time.sleep(0.01)
                continue
            idle = 0
            for item in taken:
                sender = item.message.sender
                with lock:
                    if sender in holding:
                        overlaps.append(sender)
                    holding[sender] = inbox.owner
                    handled[sender].append(item.message.message_id)
                time.sleep(0.002)
                with lock:
                    del holding[sender]
                asyncio.run(inbox.done(item.message.message_id))

    threads = [threading.Thread(target=instance, args=(inbox,)) for inbox in inboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert overlaps == []
    assert {s: handled[s] for s in senders} == {s: [f"wamid.{s}.{k}" for k in range(6)] for s in senders}
    assert inboxes[0].waiting() == []


def test_a_previous_versions_unanswered_messages_join_the_queue(tmp_path):
    import json
    import sqlite3

    path = tmp_path / "apps.db"
    db = sqlite3.connect(path)
    db.execute("create table whatsapp_pending (message_id varchar(200) primary key, message text not null, "
               "received_at datetime not null)")
    old = message(7)
    db.execute("insert into whatsapp_pending values (?, ?, ?)",
               (old.message_id, json.dumps(old.__dict__), "2026-12-01 10:00:00.000000"))
    db.commit()
    db.close()
    inbox = Inbox(f"sqlite:///{path}")
    assert inbox.waiting() == [old]
    assert sqlite3.connect(path).execute(
        "select count(*) from sqlite_master where name = 'whatsapp_pending'").fetchone() == (0,)
