"""Per-job event streams: numbered, stored, and fanned out to every watcher."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from imagine import types as t
from daemon.store import AsyncStore


class EventLog:
    def __init__(self, store: AsyncStore) -> None:
        self._store = store
        self._last_seq: dict[str, int] = {}
        self._watchers: dict[str, set[asyncio.Queue[t.JobEvent]]] = defaultdict(set)

    def seed(self, job_id: str, last_seq: int) -> None:
        """Continue a job's numbering after a restart."""
        self._last_seq[job_id] = max(self._last_seq.get(job_id, 0), last_seq)

    async def publish(self, job_id: str, kind: t.EventKind) -> t.JobEvent:
        """Store the event, then hand it to the job's watchers (in that order, so a
        watcher that read the store after subscribing misses nothing)."""
        seq = self._last_seq.get(job_id, 0) + 1
        self._last_seq[job_id] = seq
        event = t.JobEvent(job_id=job_id, seq=seq, time=time.time(), kind=kind)
        await self._store.run(lambda s: s.append_event(event))
        for watcher in self._watchers.get(job_id, ()):
            watcher.put_nowait(event)
        if isinstance(kind, t.Finished):
            self._last_seq.pop(job_id, None)
        return event

    def has_watchers(self, job_id: str) -> bool:
        return bool(self._watchers.get(job_id))

    def subscribe(self, job_id: str) -> asyncio.Queue[t.JobEvent]:
        watcher: asyncio.Queue[t.JobEvent] = asyncio.Queue()
        self._watchers[job_id].add(watcher)
        return watcher

    def unsubscribe(self, job_id: str, watcher: asyncio.Queue[t.JobEvent]) -> None:
        watchers = self._watchers.get(job_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[job_id]
