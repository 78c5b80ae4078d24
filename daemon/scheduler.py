"""The job lifecycle: accept, queue, hand out, finish, cancel; and what watchers see.

Every state change is written to the store before the event announcing it is
published, so the store is always at least as new as any event.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import logging
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from pathlib import Path

from imagine import types as t
from daemon.config import Config
from daemon.errors import JobNotFound, JobNotModifiable, OutputNotFound, ShuttingDown
from daemon.eta import EtaEstimator, job_shape
from daemon.events import EventLog
from daemon.queue import JobQueue, QueueEntry
from daemon.store import AsyncStore, JobRecord, Store, with_state
from daemon.inputs import Inputs
from daemon.validate import Context, SourceOutput, fill_and_check, is_builtin, referenced_outputs


log = logging.getLogger(__name__)


RUN_DIR_KINDS = frozenset({"train", "benchmark"})  # jobs that work in DATA_DIR/runs/<job id>


def _pixels(spec: t.JobSpec) -> int:
    task = spec.task
    return int(getattr(task, "width", 0)) * int(getattr(task, "height", 0)) * max(1, int(getattr(task, "count", 1)))


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


class Scheduler:
    def __init__(self, config: Config, store: AsyncStore) -> None:
        self.config = config
        self.store = store
        self.events = EventLog(store)
        self.queue = JobQueue(
            aging_seconds=config.aging_seconds,
            max_total=config.max_queue,
            max_per_owner=config.max_queue_per_owner,
        )
        self.eta = EtaEstimator(store)
        self.inputs = Inputs(config.inputs_dir)
        self.paused = False
        self.running: dict[str, JobRecord] = {}
        self.changed = asyncio.Condition()  # notified on any queue or job change
        self._order = itertools.count()
        self._published_positions: dict[str, tuple[int, float | None]] = {}
        self._closing = False
        self.cancel_requests: set[str] = set()
        self._waiting: dict[str, JobRecord] = {}  # queued jobs as stored, so starting one reads nothing
        self.on_cancel_running: Callable[[str], Awaitable[None]] | None = None
        # names of the models the worker holds, so a job that needs no load may go first (see queue.py)
        self.loaded_models: Callable[[], Collection[str]] = frozenset

    # -- start-up -------------------------------------------------------------

    async def recover(self) -> int:
        """Rebuild the queue from the store; jobs left running go back to it. Returns how many."""
        records = await self.store.run(lambda s: s.in_states([t.JobState.QUEUED, t.JobState.RUNNING]))
        for record in records:
            if record.job.state == t.JobState.RUNNING:
                record = with_state(record, state=t.JobState.QUEUED, started_at=None)
                await self.store.run(lambda s, r=record: s.save_job(r))
            self.events.resume(record.id, record.job.last_seq)
            self._enqueue(record)
        return len(records)

    def _enqueue(self, record: JobRecord) -> None:
        self._waiting[record.id] = record
        job = record.job
        self.queue.push(
            QueueEntry(
                job.id, job.owner, job.spec.priority, record.enqueued_at, next(self._order), shape=job_shape(job.spec)
            )
        )

    # -- requests -------------------------------------------------------------

    async def submit(self, spec: t.JobSpec, owner: str) -> tuple[t.Job, bool]:
        if self._closing:
            raise ShuttingDown("the daemon is shutting down; submit again when it is back")
        if spec.request_id:
            existing = await self.store.run(lambda s: s.find_by_request(owner, spec.request_id))
            if existing is not None:
                return await self._public(existing), False
        context = Context(
            default_model=self.config.default_model,
            models_dir=self.config.model_store,
            inputs=self.inputs,
            outputs=await self._source_outputs(referenced_outputs(spec)),
        )
        check = functools.partial(fill_and_check, spec, context)
        # a built-in model and no images are checked in memory; paths, hub ids and images touch the disk
        in_memory = spec.kind == "txt2img" and is_builtin(spec.model or self.config.default_model)
        spec = check() if in_memory else await asyncio.to_thread(check)
        self.queue.check_room(owner)
        now = time.time()
        job = t.Job(id=new_job_id(), spec=spec, owner=owner, state=t.JobState.QUEUED, created_at=now)
        record = JobRecord(job, enqueued_at=now)
        try:
            await self.store.run(lambda s: s.insert_job(record))
        except sqlite3.IntegrityError:  # the same request_id raced in twice
            existing = await self.store.run(lambda s: s.find_by_request(owner, spec.request_id))
            if existing is None:
                raise
            return await self._public(existing), False
        self._enqueue(record)
        placing = await self._queue_changed()
        job = dataclasses.replace(job, last_seq=self.events.last_seq(job.id))
        return self._with_position(job, placing), True

    async def _source_outputs(self, output_ids: set[str]) -> dict[str, SourceOutput]:
        found: dict[str, SourceOutput] = {}
        for output_id in output_ids:
            output = await self.store.run(lambda s, o=output_id: s.get_output(o))
            record = None if output is None else await self.store.run(lambda s, j=output.job_id: s.get(j))
            if output is not None and record is not None:
                found[output_id] = SourceOutput(output, record.job.spec)
        return found

    async def get(self, job_id: str) -> t.Job:
        record = await self.store.run(lambda s: s.get(job_id))
        if record is None:
            raise JobNotFound(job_id)
        return await self._public(record)

    async def list_jobs(
        self,
        *,
        states: list[t.JobState],
        owner: str,
        words: list[str],
        before: tuple[float, str] | None,
        limit: int,
    ) -> list[t.Job]:
        records = await self.store.run(
            lambda s: s.list_jobs(states=states, owner=owner, words=words, before=before, limit=limit)
        )
        placing = await self._placing()
        return [self._with_position(r.job, placing) for r in records]

    async def cancel(self, job_id: str) -> t.Job:
        record = await self._record(job_id)
        if record.job.state.terminal:
            return record.job
        if self.queue.remove(job_id) is not None:
            self._waiting.pop(job_id, None)
            await self.finish(record, t.JobState.CANCELLED, "")
            await self._queue_changed()
        elif job_id in self.running:
            self.cancel_requests.add(job_id)
            if self.on_cancel_running is not None:
                await self.on_cancel_running(job_id)
        return await self.get(job_id)

    async def set_priority(self, job_id: str, priority: t.Priority) -> t.Job:
        record = await self._record(job_id)
        if record.job.state != t.JobState.QUEUED:
            raise JobNotModifiable(
                f"job {job_id} is {record.job.state.value}; only a queued job can change priority"
            )
        record = with_state(record, spec=dataclasses.replace(record.job.spec, priority=priority))
        await self.store.run(lambda s: s.save_job(record))
        self.queue.set_priority(job_id, priority)
        self._waiting[job_id] = record
        await self._queue_changed()
        return await self.get(job_id)

    async def delete(self, job_id: str) -> None:
        record = await self._record(job_id)
        if not record.job.state.terminal:
            raise JobNotModifiable(
                f"job {job_id} is {record.job.state.value}; cancel it first (`imagine jobs cancel {job_id}`)"
            )
        outputs = await self.store.run(lambda s: s.delete_job(job_id))
        for output in outputs:
            Path(output.path).unlink(missing_ok=True)
        await self._remove_run_dir(job_id)

    async def _remove_run_dir(self, job_id: str) -> None:
        """A job's working folder (training checkpoints, benchmark exports), once nothing will resume from it."""
        await asyncio.to_thread(shutil.rmtree, self.config.runs_dir / job_id, True)

    async def output(self, output_id: str) -> t.Output:
        output = await self.store.run(lambda s: s.get_output(output_id))
        if output is None:
            raise OutputNotFound(output_id)
        return output

    async def set_paused(self, paused: bool) -> None:
        async with self.changed:
            self.paused = paused
            self.changed.notify_all()

    # -- watching -------------------------------------------------------------

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]:
        """The job's current state (or the events after `after_seq`), then live events to the end."""
        inbox = self.events.subscribe(job_id)  # before reading anything, so nothing falls in between
        try:
            job = await self.get(job_id)
            last = after_seq
            if after_seq:
                for event in await self.events.after(job_id, after_seq):
                    yield event
                    last = event.seq
                    if isinstance(event.kind, t.Finished):
                        return
            if after_seq and not job.state.terminal:
                job = await self.get(job_id)
            if not after_seq or job.state.terminal:
                yield t.JobEvent(job_id, job.last_seq, time.time(), t.Snapshot(job))
                last = max(last, job.last_seq)
                if job.state.terminal:
                    return
            while True:
                event = await inbox.get()
                if event.seq <= last:
                    continue
                yield event
                last = event.seq
                if isinstance(event.kind, t.Finished):
                    return
        finally:
            self.events.unsubscribe(job_id, inbox)

    # -- for the executor -----------------------------------------------------

    async def next_batch(
        self, key_of: Callable[[t.JobSpec], object | None], max_size: int = 1, max_pixels: int = 0
    ) -> list[JobRecord]:
        """Wait for work, mark it running and return it: the next job, plus queued jobs with the same
        batch key (not None) up to max_size jobs and max_pixels pixels (images x width x height)."""
        while True:
            async with self.changed:
                await self.changed.wait_for(lambda: self._closing or (not self.paused and len(self.queue) > 0))
                if self._closing:
                    raise ShuttingDown("closing")
                entry = self.queue.pop_next(self.loaded_models())
                if entry is None:
                    continue
                first = self._waiting.pop(entry.job_id, None)
                if first is None:
                    continue
                batch = [first]
                key = key_of(first.job.spec) if max_size > 1 else None
                if key is not None:
                    pixels = [_pixels(first.job.spec)]

                    def alike(candidate: QueueEntry, key: object = key, pixels: list[int] = pixels) -> bool:
                        record = self._waiting.get(candidate.job_id)
                        if record is None or key_of(record.job.spec) != key:
                            return False
                        if max_pixels and sum(pixels) + _pixels(record.job.spec) > max_pixels:
                            return False
                        pixels.append(_pixels(record.job.spec))
                        return True

                    taken = self.queue.take_alike(entry, alike, max_size - 1)
                    batch += [self._waiting.pop(e.job_id) for e in taken]
            now = time.time()
            records = [
                with_state(
                    waiting,
                    state=t.JobState.RUNNING,
                    started_at=now,
                    attempts=waiting.job.attempts + 1,
                    timings=t.Timings(queue_ms=(now - waiting.job.created_at) * 1000),
                )
                for waiting in batch
            ]
            for record in records:
                # Queued in the store's order before anything else about this job, but not awaited: the
                # worker can start meanwhile. A crash before it lands leaves the job queued, which is
                # what recovery would make of a running job anyway.
                self.store.submit(lambda s, r=record: s.save_job(r))
                self.running[record.id] = record
                self._published_positions.pop(record.id, None)
            await self._queue_changed()
            return records

    def outranked(self, record: JobRecord) -> bool:
        return self.queue.outranks(record.job.spec.priority)

    async def add_output(self, record: JobRecord, output: t.Output) -> None:
        await self.events.publish(record.id, output, also=lambda s: s.add_output(output))

    async def requeue(self, record: JobRecord, *, worker_died: bool) -> None:
        """Put a started job back (worker died, daemon stopping); it keeps its place."""
        self.running.pop(record.id, None)
        self.cancel_requests.discard(record.id)
        record = with_state(
            record,
            state=t.JobState.QUEUED,
            started_at=None,
            worker_deaths=record.worker_deaths + (1 if worker_died else 0),
        )
        await self.store.run(lambda s: s.save_job(record))
        self._enqueue(record)
        await self._queue_changed()

    async def finish(
        self,
        record: JobRecord,
        state: t.JobState,
        error: str,
        timings: t.Timings | None = None,
        report: t.Report | None = None,
    ) -> None:
        self.running.pop(record.id, None)
        self.cancel_requests.discard(record.id)
        now = time.time()
        base = timings or record.job.timings
        timings = t.Timings(
            queue_ms=base.queue_ms,
            load_ms=base.load_ms,
            run_ms=base.run_ms,
            encode_ms=base.encode_ms,
            total_ms=(now - record.job.created_at) * 1000,
        )
        record = with_state(record, state=state, error=error, finished_at=now, timings=timings, report=report)
        shape = self.eta.shape_of(record.job.spec)
        typical: list[float | None] = []

        def save(store: Store) -> None:
            store.save_job(record)
            typical.append(store.typical_seconds_per_image(*shape))

        if state == t.JobState.SUCCEEDED and record.job.spec.kind in RUN_DIR_KINDS:
            await self._remove_run_dir(record.id)  # what it made is registered or in outputs; a failed run's stays
        await self.events.publish(record.id, t.Finished(state, error, timings, report), also=save)
        log.info(
            "job %s of %s %s after %.1f s%s", record.id, record.job.owner, state.value,
            timings.total_ms / 1000, f": {error}" if error else "",
        )
        self.eta.remember(shape, typical[0])
        self._published_positions.pop(record.id, None)
        async with self.changed:
            self.changed.notify_all()

    async def close(self) -> None:
        async with self.changed:
            self._closing = True
            self.changed.notify_all()

    # -- helpers --------------------------------------------------------------

    async def _record(self, job_id: str) -> JobRecord:
        record = self.running.get(job_id) or await self.store.run(lambda s: s.get(job_id))
        if record is None:
            raise JobNotFound(job_id)
        return record

    async def _public(self, record: JobRecord) -> t.Job:
        """The stored job, with its queue position and ETA when it waits."""
        return self._with_position(record.job, await self._placing() if record.id in self.queue else {})

    async def _placing(self) -> dict[str, tuple[int, float | None]]:
        """Position and ETA of every queued job."""
        order = self.queue.order()
        etas = await self.eta.for_queue(order, list(self.running.values()))
        return {e.job_id: (i, etas.get(e.job_id)) for i, e in enumerate(order, start=1)}

    @staticmethod
    def _with_position(job: t.Job, placing: dict[str, tuple[int, float | None]]) -> t.Job:
        if job.id not in placing or job.state != t.JobState.QUEUED:
            return job
        position, eta = placing[job.id]
        return dataclasses.replace(job, queue_position=position, eta_seconds=eta)

    async def _queue_changed(self) -> dict[str, tuple[int, float | None]]:
        """Tell the executor, and every watched queued job whose position or ETA moved."""
        async with self.changed:
            self.changed.notify_all()
        placing = await self._placing()
        for job_id, current in placing.items():
            if self._published_positions.get(job_id) == current:
                continue
            first = job_id not in self._published_positions
            if first or self.events.has_watchers(job_id):
                self._published_positions[job_id] = current
                await self.events.publish(job_id, t.Queued(*current))
        return placing

