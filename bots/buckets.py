"""Token buckets: how often a message may be edited, and how often a person may start an image."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence


class TokenBucket:
    """`capacity` tokens, refilled at `rate` tokens a second; one action takes one token."""

    def __init__(self, rate: float, capacity: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"a token bucket needs rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    @classmethod
    def every(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
        """At most one action per `seconds` (and none in a burst)."""
        return cls(1.0 / seconds, 1.0, clock)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait_time(self) -> float:
        """Seconds until a token is there (0 when one is there now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def give_back(self) -> None:
        """Return a token taken for an action that did not happen."""
        self._tokens = min(self.capacity, self._tokens + 1)


async def take_all(buckets: Sequence[TokenBucket]) -> None:
    """One token from each bucket, waiting until every one has one (none is held while waiting)."""
    while True:
        wait = max((b.wait_time() for b in buckets), default=0.0)
        if wait <= 0:
            for bucket in buckets:
                bucket.try_take()
            return
        await asyncio.sleep(wait)
