"""Two `rasa run` instances on one PostgreSQL database and one Redis lock store, behind
HAProxy (issue 17): the WhatsApp channel's guarantees hold across instances.

One cluster for the module (tests/e2e/cluster_stack.py): the test session's private
PostgreSQL and Redis (tests/conftest.py, cluster/services.py), a fresh database, and per
instance its own action server and `rasa run` (SEVA_INSTANCE=1, 2; speech off: no voice
notes here). The fake Graph API delivers every webhook to the balancer, and re-delivers
any POST not answered 200, as Meta does.

Every message has a known reply of its own (five intents whose answers are told apart by
their text), so "one reply set per message, in the order the citizen sent them" is read
off what the fake Graph API received for each citizen. Nothing sleeps: a message is
finished when its row has left the shared inbox (Cluster.wait_answered).
"""
import concurrent.futures
import random
import secrets
import threading
import time

import pytest

from fakegraph.server import FakeGraph, envelope, new_wamid, text
from tests.e2e.cluster_stack import Cluster
from tests.e2e.servers import MODEL

SECRET = "e2e-cluster-secret"
# each payload's replies, as kinds told apart by their text (see kind())
REPLIES = {"/greet": ["greet", "greet"], "/list_services": ["list"], "/human_help": ["help"],
           "/thank": ["thanks"], "/goodbye": ["bye"]}


@pytest.fixture(scope="module")
def fake():
    # like Meta, a "sent" status webhook per reply: how an instance taking over tells a reply
    # the dead one got through from one it did not (channels/replies.py)
    server = FakeGraph(app_secret=SECRET, send_statuses=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake, postgres, redis_server):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    name = f"e2e_cluster_{secrets.token_hex(4)}"
    cluster = Cluster(tmp_path_factory.mktemp("cluster"), fake, SECRET, postgres.fresh_database(name),
                      redis_server.url, instances=2, lock_key_prefix=name.replace("_", ""),  # Rasa: alphanumeric
                      SPEECH_ENABLED="false")
    started = time.monotonic()
    try:
        cluster.start()
        print(f"\ncluster of 2 started in {time.monotonic() - started:.0f} s (balancer checks "
              f"{cluster.health_path})")
        yield cluster
    finally:
        cluster.stop()
        connection = postgres.connect()
        try:
            connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            connection.close()


def body_text(body):
    if body["type"] == "text":
        return body["text"]["body"]
    if body["type"] == "interactive":
        return body["interactive"]["body"]["text"]
    return ""


def kind(body):
    said = body_text(body)
    return ("greet" if "Namaskar" in said or "What would you like" in said else
            "list" if "department" in said else "help" if "helpline" in said else
            "thanks" if "welcome" in said else "bye" if "Goodbye" in said else said[:40])


def deliver(fake, message):
    """One webhook POST through the balancer, re-delivered until 200 as Meta does."""
    codes = fake.deliver(envelope([message]), retries=8)
    assert codes[-1] == 200, codes
    return codes


def deliver_together(fake, message, copies=2):
    """The same message POSTed ``copies`` times at the same moment (Meta retrying while
    its first attempt is still in flight); each re-delivered until 200."""
    start = threading.Barrier(copies)

    def post(_):
        start.wait()
        return deliver(fake, message)
    with concurrent.futures.ThreadPoolExecutor(copies) as pool:
        return list(pool.map(post, range(copies)))


def received_by(cluster, n):
    return cluster.log_text(n).count("WhatsApp text message from")


def check_replies(fake, scripts):
    """Each citizen got exactly the replies of the messages they sent, in that order."""
    wrong = {}
    for wa_id, script in scripts.items():
        expected = [k for payload in script for k in REPLIES[payload]]
        got = [kind(body) for body in fake.messages_to(wa_id)]
        if got != expected:
            wrong[wa_id] = (script, got)
    assert not wrong, f"{len(wrong)} citizens: {list(wrong.items())[:3]}"


def test_fifty_citizens_five_messages_with_duplicates_get_one_reply_each_in_order(cluster, fake):
    """50 citizens at once, 5 messages each in an order of their own, through the balancer.
    Every citizen's 2nd message is delivered twice at the same moment, their 3rd message is
    re-delivered after their 4th (late, out of order), and every 5th citizen re-delivers
    their 1st message once everything was answered. Each message is answered once, each
    citizen's replies come in the order they wrote, and both instances did the work."""
    rng = random.Random(17)
    scripts = {f"9197100{n:05d}": rng.sample(list(REPLIES), len(REPLIES)) for n in range(50)}
    sent, redelivered_after = {}, []

    def citizen(wa_id):
        messages = [text(wa_id, payload, wamid=new_wamid()) for payload in scripts[wa_id]]
        deliver(fake, messages[0])
        deliver_together(fake, messages[1])
        deliver(fake, messages[2])
        deliver(fake, messages[3])
        deliver(fake, messages[2])  # Meta re-delivers a message it had already delivered
        deliver(fake, messages[4])
        sent[wa_id] = messages
    before = {n: received_by(cluster, n) for n in (1, 2)}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        list(pool.map(citizen, scripts))
    ids = [m["id"] for messages in sent.values() for m in messages]
    cluster.wait_answered(ids, timeout=300)
    for wa_id in list(scripts)[::5]:  # a re-delivery long after the answer
        deliver(fake, sent[wa_id][0])
        redelivered_after.append(sent[wa_id][0]["id"])
    cluster.wait_answered(redelivered_after)
    print(f"\n250 messages (+{50 + 50 + len(redelivered_after)} re-deliveries) answered in "
          f"{time.monotonic() - started:.1f} s")
    check_replies(fake, scripts)
    handled = {n: received_by(cluster, n) - before[n] for n in (1, 2)}
    print(f"handled by instance 1: {handled[1]}, instance 2: {handled[2]}")
    assert sum(handled.values()) == 250, handled  # a duplicate is never handled as a message
    assert handled[1] > 25 and handled[2] > 25, handled  # both instances did the work
    assert "Traceback" not in cluster.log_text(1) + cluster.log_text(2)


def test_an_instance_killed_mid_run_loses_and_doubles_nothing_and_the_other_answers_within_30_s(cluster, fake):
    """40 citizens × 5 messages through the balancer; instance 2 is SIGKILLed while it holds
    messages (their inbox rows leased to "2:…"). Meta's retries of any POST not answered 200
    are ours: the balancer stops sending to the dead instance, so every POST ends with 200
    from the live one. Nothing is lost or doubled, and the messages instance 2 held are
    answered by instance 1 within 30 s of the kill."""
    rng = random.Random(29)
    scripts = {f"9197200{n:05d}": rng.sample(list(REPLIES), len(REPLIES)) for n in range(40)}
    sent = {}
    held, times = set(), {}
    resumed_before = cluster.log_text(1).count("stopped before finishing; resuming")

    retried = []

    def citizen(wa_id):
        messages = [text(wa_id, payload, wamid=new_wamid()) for payload in scripts[wa_id]]
        sent[wa_id] = messages
        for message in messages:
            codes = deliver(fake, message)
            if len(codes) > 1:
                retried.append(codes)

    def kill_when_holding():
        """SIGKILL instance 2 once it holds 3 messages; then time the balancer taking it out
        of rotation, and instance 1 answering what it held."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not held:
            if len(cluster.held_by(2)) >= 3:
                cluster.kill(2)
                times["kill"] = time.monotonic()
                held.update(cluster.held_by(2))  # after the kill: exactly what it left leased
            else:
                time.sleep(0.02)
        if held:
            cluster.wait_states({Cluster.name(2): "DOWN"}, timeout=30)
            times["down"] = time.monotonic()
            cluster.wait_answered(held, timeout=120)
            times["answered"] = time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(41) as pool:
        killer = pool.submit(kill_when_holding)
        list(pool.map(citizen, scripts))
        killer.result()
    assert held, "instance 2 never held 3 messages at once"
    ids = [m["id"] for messages in sent.values() for m in messages]
    cluster.wait_answered(ids, timeout=300)
    took = times["answered"] - times["kill"]
    resumed = cluster.log_text(1).count("stopped before finishing; resuming") - resumed_before
    print(f"\ninstance 2 killed holding {len(held)} message(s); the balancer took it out after "
          f"{times['down'] - times['kill']:.1f} s; instance 1 answered them {took:.1f} s after the kill "
          f"({resumed} resumed after a claim); {len(retried)} of 200 POSTs re-delivered after a non-200 "
          f"{sorted({tuple(codes[:-1]) for codes in retried})[:5]}")
    check_replies(fake, scripts)
    assert cluster.states()[Cluster.name(2)] == "DOWN"
    assert took <= 30, f"the killed instance's messages were answered {took:.1f} s after the kill"
