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


def job_shape(spec: t.JobSpec) -> tuple[str, str, int, int, int, int]:
    """What makes two jobs take the same time per image: model, kind, size and steps; and the image count."""
    task = spec.task
    size = tuple(int(getattr(task, name, 0)) for name in ("width", "height", "steps", "count"))
    return (spec.model, spec.kind, *size)  # type: ignore[return-value]

Shape = tuple[str, str, int, int, int]  # model, kind, width, height, steps


class EtaEstimator:
    def __init__(self, store: AsyncStore) -> None:
        self._store = store
        self._per_image: dict[Shape, float | None] = {}

    @staticmethod
    def shape_of(spec: t.JobSpec) -> Shape:
        model, kind, width, height, steps, _ = job_shape(spec)
        return (model, kind, width, height, steps)  # type: ignore[return-value]

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
            *shape, count = job_shape(record.job.spec)
            per_image = await self.seconds_per_image(tuple(shape))  # type: ignore[arg-type]
            if per_image is None or ahead is None:
                ahead = None
                continue
            elapsed = now - (record.job.started_at or now)
            ahead += max(0.0, per_image * max(count, 1) - elapsed)  # type: ignore[call-overload]
        etas: dict[str, float | None] = {}
        for entry in order:
            *shape, count = entry.shape
            per_image = await self.seconds_per_image(tuple(shape))  # type: ignore[arg-type]
            if per_image is None or ahead is None:
                ahead = None
            else:
                ahead += per_image * max(count, 1)
            etas[entry.job_id] = None if ahead is None else round(ahead, 3)
        return etas
