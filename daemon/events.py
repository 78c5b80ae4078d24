"""Per-job event streams: numbered, kept, and fanned out to every watcher.

Events that a job's row does not already record (its outputs, how it ended)
are stored before watchers see them. Queue positions, the start and per-step
progress are not worth a disk write each (the row has the state, attempts and
start time): they live in memory until the job ends and are replayed from there.
A restarted daemon continues each job's numbering past anything it may have
handed out unstored (`UNSTORED_GAP`), so a client that reattaches with the
last number it saw never skips a new event.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable

from imagine import types as t
from daemon.store import AsyncStore, Store

UNSTORED_GAP = 100_000  # more than a job can be handed out unstored between two stored events
TRANSIENT_KEPT = 2_000  # unstored events kept per job for replay


class EventLog:
    def __init__(self, store: AsyncStore) -> None:
        self._store = store
        self._last_seq: dict[str, int] = {}
        self._transient: dict[str, deque[t.JobEvent]] = defaultdict(lambda: deque(maxlen=TRANSIENT_KEPT))
        self._watchers: dict[str, set[asyncio.Queue[t.JobEvent]]] = defaultdict(set)

    def resume(self, job_id: str, stored_last_seq: int) -> None:
        """Continue a job's numbering after a restart."""
        self._last_seq[job_id] = max(self._last_seq.get(job_id, 0), stored_last_seq + UNSTORED_GAP)

    async def publish(
        self,
        job_id: str,
        kind: t.EventKind,
        also: Callable[[Store], object] | None = None,
        *,
        durable: bool | None = None,
    ) -> t.JobEvent:
        """Number, keep and hand out an event; `also` runs in the same store call, before it.

        Durable events are stored before anyone sees them: by default outputs and
        the end. The job row already records being queued and started.
        """
        if durable is None:
            durable = also is not None or isinstance(kind, (t.Output, t.Finished))
        seq = self._last_seq.get(job_id, 0) + 1
        self._last_seq[job_id] = seq
        event = t.JobEvent(job_id=job_id, seq=seq, time=time.time(), kind=kind)
        if not durable:
            self._transient[job_id].append(event)
        else:
            def write(store: Store) -> None:
                if also is not None:
                    also(store)
                store.append_event(event)

            await self._store.run(write)
        for watcher in self._watchers.get(job_id, ()):
            watcher.put_nowait(event)
        if isinstance(kind, t.Finished):
            self._last_seq.pop(job_id, None)
            self._transient.pop(job_id, None)
        return event

    async def after(self, job_id: str, seq: int) -> list[t.JobEvent]:
        """Every event of the job after `seq` that is still kept, in order."""
        stored = await self._store.run(lambda s: s.events_after(job_id, seq))
        recent = [e for e in self._transient.get(job_id, ()) if e.seq > seq]
        return sorted(stored + recent, key=lambda e: e.seq)

    def last_seq(self, job_id: str) -> int:
        return self._last_seq.get(job_id, 0)

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
