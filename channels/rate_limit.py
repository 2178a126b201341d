"""Per-sender rate limiting: a flood from one number must not starve everyone else.

Rasa's NLU and policies run on the CPU for every message; one phone sending hundreds of
messages a minute would delay every other citizen. Each sender gets a token bucket:
``burst`` messages at once, then one every ``60 / per_minute`` seconds. Beyond that a
message is not processed and the sender is told, once per quiet spell, to wait a minute.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

DEFAULT_PER_MINUTE = 20
DEFAULT_BURST = 10
MAX_TRACKED_SENDERS = 100_000  # bounded memory: the least recently seen are forgotten


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class SenderRateLimiter:
    def __init__(self, per_minute: float = DEFAULT_PER_MINUTE, burst: int = DEFAULT_BURST,
                 clock: Callable[[], float] = time.monotonic, max_senders: int = MAX_TRACKED_SENDERS):
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_senders = max_senders
        self._buckets: "OrderedDict[str, _Bucket]" = OrderedDict()

    def allow(self, sender: str) -> bool:
        """Take one token for ``sender``; False when the sender is over the limit."""
        bucket = self._refilled(sender)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True
        return False

    def should_warn(self, sender: str) -> bool:
        """True once per spell of refused messages: tell the citizen, but not on every one."""
        bucket = self._refilled(sender)
        if bucket.warned:
            return False
        bucket.warned = True
        return True

    def _refilled(self, sender: str) -> _Bucket:
        now = self.clock()
        bucket: Optional[_Bucket] = self._buckets.pop(sender, None)
        if bucket is None:
            bucket = _Bucket(tokens=self.burst, updated=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        self._buckets[sender] = bucket  # most recently seen last
        while len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)
        return bucket
