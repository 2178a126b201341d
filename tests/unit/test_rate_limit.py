"""The per-sender token bucket, in the channel's database, on a fake clock.

Two limiter objects on one database file stand for a restarted process or a second Rasa
instance; the concurrency test races several processes' worth of connections on it."""
import asyncio
import threading

import pytest
import sqlalchemy as sa

from channels.rate_limit import SenderRateLimiter, buckets


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'seva.db'}"


def allow(limiter, sender, times=1):
    async def go():
        return [await limiter.allow(sender) for _ in range(times)]
    return asyncio.run(go())


def test_a_burst_then_one_message_per_interval(url):
    clock = Clock()
    limiter = SenderRateLimiter(url, per_minute=20, burst=10, clock=clock)
    assert allow(limiter, "A", 12) == [True] * 10 + [False] * 2
    clock.now += 3.0  # 20 per minute: one token every 3 s
    assert allow(limiter, "A", 2) == [True, False]
    clock.now += 600
    assert sum(allow(limiter, "A", 20)) == 10  # never more than the burst


def test_one_flooding_sender_does_not_use_anothers_budget(url):
    limiter = SenderRateLimiter(url, per_minute=20, burst=10, clock=Clock())
    assert sum(allow(limiter, "flooder", 50)) == 10
    assert all(allow(limiter, "citizen", 10))


def test_the_sender_is_warned_once_per_spell_of_refusals(url):
    clock = Clock()
    limiter = SenderRateLimiter(url, per_minute=20, burst=1, clock=clock)
    warn = lambda: asyncio.run(limiter.should_warn("A"))  # noqa: E731
    assert allow(limiter, "A", 2) == [True, False]
    assert warn() and not warn()
    clock.now += 3.0
    assert allow(limiter, "A") == [True]  # allowed again: the next refusal warns again
    assert allow(limiter, "A") == [False] and warn()


def test_the_budget_survives_a_restart(url):
    clock = Clock()
    assert sum(allow(SenderRateLimiter(url, per_minute=20, burst=10, clock=clock), "A", 10)) == 10
    restarted = SenderRateLimiter(url, per_minute=20, burst=10, clock=clock)
    assert allow(restarted, "A") == [False]
    assert asyncio.run(restarted.should_warn("A")) and not asyncio.run(restarted.should_warn("A"))
    clock.now += 3.0
    assert allow(restarted, "A", 2) == [True, False]


def test_two_instances_on_one_database_share_one_budget(url):
    clock = Clock()
    first = SenderRateLimiter(url, per_minute=20, burst=10, clock=clock)
    second = SenderRateLimiter(url, per_minute=20, burst=10, clock=clock)
    taken = [allow(limiter, "A")[0] for _ in range(6) for limiter in (first, second)]
    assert sum(taken) == 10 and taken[-2:] == [False, False]
    warned = [asyncio.run(limiter.should_warn("A")) for limiter in (first, second, first)]
    assert warned == [True, False, False]  # told once, whichever instance refused


def test_racing_connections_never_hand_out_more_than_the_burst(url):
    """Threads with engines of their own (as separate processes would have) take at once."""
    clock = Clock()
    limiters = [SenderRateLimiter(url, per_minute=20, burst=10, clock=clock) for _ in range(4)]
    results, start = [], threading.Barrier(len(limiters))

    def hammer(limiter):
        start.wait()
        got = [limiter._take(sender) for _ in range(15) for sender in ("A", "B")]
        results.extend(got)
    threads = [threading.Thread(target=hammer, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 120 and sum(results) == 20  # 10 each for A and B, not one more


def test_a_clock_stepping_back_adds_no_tokens(url):
    clock = Clock()
    limiter = SenderRateLimiter(url, per_minute=20, burst=2, clock=clock)
    assert allow(limiter, "A", 3) == [True, True, False]
    clock.now -= 3600
    assert allow(limiter, "A") == [False]


def test_buckets_full_again_are_forgotten(url):
    clock = Clock()
    limiter = SenderRateLimiter(url, per_minute=20, burst=10, clock=clock)
    allow(limiter, "old")
    clock.now += 120  # 30 s refills 10 tokens; a minute's margin on top
    allow(limiter, "recent", 11)
    assert limiter.prune() == 1
    with limiter.engine.connect() as conn:
        assert [r.sender for r in conn.execute(sa.select(buckets.c.sender))] == ["recent"]
    assert allow(limiter, "recent") == [False]  # a bucket still refilling is kept


@pytest.mark.parametrize("per_minute, burst", [(0, 10), (20, 0)])
def test_nonsense_settings_are_refused(per_minute, burst, url):
    with pytest.raises(ValueError):
        SenderRateLimiter(url, per_minute=per_minute, burst=burst)
