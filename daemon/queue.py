"""The order in which queued jobs run.

Rules, in this order:
1. Higher effective priority first. A job's effective priority is its class
   (low < normal < high) raised by one class for every `aging_seconds` it has
   waited, so a low job is never starved.
2. Inside a class, owners take turns: the owner served least recently goes next
   (round-robin), so one user's fifty jobs do not hold up everyone else.
3. One owner's jobs run in the order they were submitted.
4. A job whose model is already loaded may take the turn of an owner whose next
   job needs a model that is not, once: that owner goes next (no reload thrash,
   no starvation). Positions and ETAs ignore this small reordering.

The queue is the in-memory index of the jobs table's queued rows; the store
stays the truth and rebuilds it on start.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from imagine import types as t
from daemon.errors import QueueFull

_TOP_RANK = t.Priority.HIGH.rank


@dataclass(frozen=True)
class QueueEntry:
    job_id: str
    owner: str
    priority: t.Priority
    enqueued_at: float  # wall-clock seconds, for aging
    order: int          # submission order, for FIFO per owner
    shape: tuple[str, str, int, int, int, int] = ("", "txt2img", 0, 0, 0, 1)  # model, kind, width, height, steps, count


class JobQueue:
    def __init__(
        self,
        *,
        aging_seconds: float = 120.0,
        max_total: int = 1000,
        max_per_owner: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.aging_seconds = aging_seconds
        self.max_total = max_total
        self.max_per_owner = max_per_owner
        self._clock = clock
        self._entries: dict[str, QueueEntry] = {}
        self._per_owner: dict[str, int] = {}
        self._last_served: dict[str, int] = {}
        self._ticks = itertools.count(1)
        self._owed: dict[str, int] = {}  # owner -> the turn a loaded model's job took from it

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._entries

    def owner_count(self, owner: str) -> int:
        return self._per_owner.get(owner, 0)

    def check_room(self, owner: str) -> None:
        """Raises QueueFull when one more job of `owner` would pass a cap."""
        if len(self._entries) >= self.max_total:
            raise QueueFull(
                f"the queue is full ({self.max_total} jobs waiting); try again when some have finished"
            )
        if self.owner_count(owner) >= self.max_per_owner:
            raise QueueFull(
                f"you already have {self.max_per_owner} jobs waiting, the most one owner may queue; "
                "wait for some to finish or cancel some with `imagine jobs cancel ID`"
            )

    def push(self, entry: QueueEntry) -> None:
        if entry.job_id in self._entries:
            return
        self._entries[entry.job_id] = entry
        self._per_owner[entry.owner] = self.owner_count(entry.owner) + 1

    def remove(self, job_id: str) -> QueueEntry | None:
        entry = self._entries.pop(job_id, None)
        if entry is not None:
            left = self._per_owner[entry.owner] - 1
            if left:
                self._per_owner[entry.owner] = left
            else:
                del self._per_owner[entry.owner]
                self._owed.pop(entry.owner, None)
        return entry

    def set_priority(self, job_id: str, priority: t.Priority) -> QueueEntry | None:
        entry = self._entries.get(job_id)
        if entry is not None:
            entry = dataclasses.replace(entry, priority=priority)
            self._entries[job_id] = entry
        return entry

    def effective_rank(self, entry: QueueEntry, now: float) -> int:
        waited = max(0.0, now - entry.enqueued_at)
        aged = int(waited // self.aging_seconds) if self.aging_seconds > 0 else 0
        return min(_TOP_RANK, entry.priority.rank + aged)

    def pop_next(self, loaded: Collection[str] = ()) -> QueueEntry | None:
        """The job to run now. With `loaded` (models in memory), a job whose model is loaded
        may go before the owner whose turn it is, in the same class only and never twice in a
        row past the same owner, so a cold model costs its owner at most one place."""
        turns = self._turns()
        if not turns:
            return None
        entry = turns[0]
        if loaded and entry.shape[0] not in loaded and entry.owner not in self._owed:
            warm = next((e for e in turns[1:] if e.shape[0] in loaded), None)
            if warm is not None:
                # swap turns: the owner passed over keeps the earlier turn and runs next
                self._owed[entry.owner] = next(self._ticks)
                entry = warm
        self.remove(entry.job_id)
        self._last_served[entry.owner] = self._owed.pop(entry.owner, None) or next(self._ticks)
        return entry

    def take_alike(self, first: QueueEntry, alike: Callable[[QueueEntry], bool], limit: int) -> list[QueueEntry]:
        """Remove and return up to `limit` queued jobs that can run together with `first`, oldest first.

        Dynamic batching: they ride along in the same pipeline call, which costs the jobs whose
        turn comes next little and saves everyone time.
        """
        taken = []
        for entry in sorted(self._entries.values(), key=lambda e: e.order):
            if len(taken) >= limit:
                break
            if alike(entry):
                self.remove(entry.job_id)
                taken.append(entry)
        return taken

    def outranks(self, priority: t.Priority) -> bool:
        """Whether a queued job would run before a job of `priority` (for a training job to yield to)."""
        now = self._clock()
        return any(self.effective_rank(e, now) > priority.rank for e in self._entries.values())

    def _turns(self) -> list[QueueEntry]:
        """Each owner's oldest job in the highest effective class, in round-robin order."""
        now = self._clock()
        ranked = [(self.effective_rank(e, now), e) for e in self._entries.values()]
        if not ranked:
            return []
        top = max(rank for rank, _ in ranked)
        oldest: dict[str, QueueEntry] = {}
        for rank, entry in ranked:
            if rank == top and (entry.owner not in oldest or entry.order < oldest[entry.owner].order):
                oldest[entry.owner] = entry
        return sorted(oldest.values(), key=lambda e: (e.owner not in self._owed, self._last_served.get(e.owner, 0), e.order))

    def order(self) -> list[QueueEntry]:
        """Every queued job, in the order it would run if nothing changed."""
        return list(self._simulate())

    def positions(self) -> dict[str, int]:
        return {e.job_id: i for i, e in enumerate(self._simulate(), start=1)}

    def _simulate(self) -> Iterator[QueueEntry]:
        now = self._clock()
        by_rank: dict[int, dict[str, list[QueueEntry]]] = {}
        for entry in self._entries.values():
            rank = self.effective_rank(entry, now)
            by_rank.setdefault(rank, {}).setdefault(entry.owner, []).append(entry)
        served = dict(self._last_served)
        tick = itertools.count(max(served.values(), default=0) + 1)
        for rank in sorted(by_rank, reverse=True):
            lanes = by_rank[rank]
            for jobs in lanes.values():
                jobs.sort(key=lambda e: e.order, reverse=True)  # pop() takes the oldest
            heap = [(served.get(owner, 0), jobs[-1].order, owner) for owner, jobs in lanes.items()]
            heapq.heapify(heap)
            while heap:
                _, _, owner = heapq.heappop(heap)
                jobs = lanes[owner]
                yield jobs.pop()
                served[owner] = next(tick)
                if jobs:
                    heapq.heappush(heap, (served[owner], jobs[-1].order, owner))
