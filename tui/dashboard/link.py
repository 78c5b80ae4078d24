"""The state of the link to the daemon, and the backoff between reconnection attempts (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

BACKOFF_FIRST = 0.5  # seconds before the first retry
BACKOFF_MAX = 8.0


class LinkState(str, enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"


@dataclass(frozen=True)
class Link:
    state: LinkState = LinkState.CONNECTING
    reason: str = ""  # why the link is down, in the daemon's (or the client's) words
    retry_in: float = 0.0  # seconds until the next attempt, when lost
    attempts: int = 0  # failed attempts in a row


class Backoff:
    """Doubling delays from BACKOFF_FIRST up to BACKOFF_MAX; `reset` after a success."""

    def __init__(self, first: float = BACKOFF_FIRST, limit: float = BACKOFF_MAX) -> None:
        self.first = first
        self.limit = limit
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.limit, self.first * 2**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
