"""How long until a queued job is done, from the recorded timings of similar jobs.

"Similar" means same model, size and steps; the estimate is their mean time
per image (load + run + encode) times the job's image count. A job with no
similar history has no ETA (None), and neither has anything behind it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from imagine import types as t
from daemon.queue import QueueEntry
from daemon.store import AsyncStore, JobRecord

Shape = tuple[str, int, int, int]


class EtaEstimator:
    def __init__(self, store: AsyncStore) -> None:
        self._store = store
        self._per_image: dict[Shape, float | None] = {}

    @staticmethod
    def shape_of(spec: t.JobSpec) -> Shape:
        task = spec.task
        return (spec.model, task.width, task.height, task.steps)

    def remember(self, shape: Shape, seconds_per_image: float | None) -> None:
        """The history's figure for this shape, read again after a job finished."""
        self._per_image[shape] = seconds_per_image

    async def seconds_per_image(self, shape: Shape) -> float | None:
        if shape not in self._per_image:
            self._per_image[shape] = await self._store.run(lambda s: s.typical_seconds_per_image(*shape))
        return self._per_image[shape]

    async def for_queue(self, order: Sequence[QueueEntry], running: Sequence[JobRecord]) -> dict[str, float | None]:
        now = time.time()
        ahead: float | None = 0.0
        for record in running:
            task = record.job.spec.task
            per_image = await self.seconds_per_image((record.job.spec.model, task.width, task.height, task.steps))
            if per_image is None or ahead is None:
                ahead = None
                continue
            elapsed = now - (record.job.started_at or now)
            ahead += max(0.0, per_image * max(task.count, 1) - elapsed)
        etas: dict[str, float | None] = {}
        for entry in order:
            model, width, height, steps, count = entry.shape
            per_image = await self.seconds_per_image((model, width, height, steps))
            if per_image is None or ahead is None:
                ahead = None
            else:
                ahead += per_image * max(count, 1)
            etas[entry.job_id] = None if ahead is None else round(ahead, 3)
        return etas
