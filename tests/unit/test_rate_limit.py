"""The per-sender token bucket, on a fake clock."""
import pytest

from channels.rate_limit import SenderRateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_burst_then_one_message_per_interval():
    clock = Clock()
    limiter = SenderRateLimiter(per_minute=20, burst=10, clock=clock)
    assert [limiter.allow("A") for _ in range(12)] == [True] * 10 + [False] * 2
    clock.now += 3.0  # 20 per minute: one token every 3 s
    assert limiter.allow("A") and not limiter.allow("A")
    clock.now += 600
    assert sum(limiter.allow("A") for _ in range(20)) == 10  # never more than the burst


def test_one_flooding_sender_does_not_use_anothers_budget():
    limiter = SenderRateLimiter(per_minute=20, burst=10, clock=Clock())
    flood = [limiter.allow("flooder") for _ in range(500)]
    assert sum(flood) == 10
    assert all(limiter.allow("citizen") for _ in range(10))


def test_the_sender_is_warned_once_per_spell_of_refusals():
    clock = Clock()
    limiter = SenderRateLimiter(per_minute=20, burst=1, clock=clock)
    assert limiter.allow("A") and not limiter.allow("A")
    assert limiter.should_warn("A") and not limiter.should_warn("A")
    clock.now += 3.0
    assert limiter.allow("A")  # allowed again: the next refusal warns again
    assert not limiter.allow("A") and limiter.should_warn("A")


def test_memory_is_bounded():
    limiter = SenderRateLimiter(clock=Clock(), max_senders=100)
    for n in range(1000):
        limiter.allow(f"9198{n:08d}")
    assert len(limiter._buckets) == 100


@pytest.mark.parametrize("per_minute, burst", [(0, 10), (20, 0)])
def test_nonsense_settings_are_refused(per_minute, burst):
    with pytest.raises(ValueError):
        SenderRateLimiter(per_minute=per_minute, burst=burst)
