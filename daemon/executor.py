"""Runs queued jobs on the worker process and keeps a worker alive.

A worker that dies (kill -9, segfault, CUDA abort) is replaced; the job it was
running goes back to the queue once and fails with the reason the second time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from imagine import types as t
from daemon.config import Config
from daemon.errors import DaemonError, LoadFailed, ModelNotInstalled, ModelUnknown, ShuttingDown
from daemon.protocol import Message
from daemon.scheduler import Scheduler
from daemon.store import JobRecord, with_state
from daemon.worker_jobs import batch_key, worker_job
from daemon.worker_process import CacheOptions, WorkerGone, WorkerProcess, WorkerStartError, describe_exit

log = logging.getLogger(__name__)
LOAD_TIMEOUT = 900.0  # a load waits for the running job, then may read gigabytes from disk
UNLOAD_TIMEOUT = 30.0
ENDS = frozenset({"done", "cancelled", "failed", "yielded"})  # the worker's last word on a job


class _DefaultKeepAlive:
    def __repr__(self) -> str:
        return "DEFAULT_KEEP_ALIVE"


DEFAULT_KEEP_ALIVE = _DefaultKeepAlive()  # Executor.load: the configured keep_alive_seconds


class Executor:
    def __init__(self, config: Config, scheduler: Scheduler) -> None:
        self.config = config
        self.scheduler = scheduler
        self.worker: WorkerProcess | None = None
        self.state = "starting"
        self.restarts = 0
        self.current: list[str] = []
        # registers what a job made (export, train) and applies a benchmark's selection; set by the runtime
        self.on_report: Callable[[t.Job, t.Report, dict[str, Any]], Awaitable[t.Report]] | None = None
        self.first_start: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ready = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        scheduler.on_cancel_running = self.cancel_running
        scheduler.loaded_models = self.loaded_models

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._supervise()), asyncio.create_task(self._run_jobs())]

    async def close(self) -> None:
        self._closing = True
        await self.scheduler.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.worker is not None:
            await self.worker.stop()

    # -- the worker -------------------------------------------------------------

    async def _supervise(self) -> None:
        backoff = 0.5
        while not self._closing:
            self._ready.clear()
            self.state = "starting" if not self.restarts else "restarting"
            try:
                self.worker = await WorkerProcess.start(
                    self.config.device, self.config.model_store, self.cache_options()
                )
            except WorkerStartError as exc:
                log.error("%s", exc)
                if not self.first_start.done() and exc.fatal:
                    self.first_start.set_exception(exc)
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            log.info("worker %d ready", self.worker.pid)
            if not self.first_start.done():
                self.first_start.set_result(None)
            self.state = "busy" if self.current else "idle"
            self._ready.set()
            await self.worker.exited.wait()
            if self._closing:
                return
            self.restarts += 1
            log.warning("worker %d %s; starting a new one", self.worker.pid, describe_exit(self.worker.proc.returncode))

    async def status(self) -> Message:
        worker = self.worker
        if worker is None or worker.exited.is_set():
            return {}
        return await worker.status()

    def cache_options(self) -> CacheOptions:
        c = self.config
        return CacheOptions(
            memory_budget_bytes=c.memory_budget_bytes,
            keep_alive_seconds=c.keep_alive,
            cpu_tier=c.cpu_tier,
            cpu_tier_budget_bytes=c.cpu_tier_budget_bytes,
        )

    async def _ready_worker(self, timeout: float) -> WorkerProcess:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except asyncio.TimeoutError:
            raise LoadFailed(f"the worker process is not running ({self.state}); try again shortly") from None
        assert self.worker is not None
        return self.worker

    def loaded_models(self) -> set[str]:
        """Models the worker held at its last report (no round trip: asked for every job start)."""
        worker = self.worker
        return {m["name"] for m in worker.last_status.get("loaded", ())} if worker is not None else set()

    async def load(self, model_ref: str, keep_alive: float | None | _DefaultKeepAlive = DEFAULT_KEEP_ALIVE) -> float:
        """Load a model in the worker (between jobs) and set its keep-alive (None = forever); returns load_ms.

        load_ms is 0.0 when it was already on the device. Raises ModelUnknown, ModelNotInstalled or
        LoadFailed with the worker's sentence.
        """
        worker = await self._ready_worker(60.0)
        message: Message = {"op": "load", "model": model_ref}
        if not isinstance(keep_alive, _DefaultKeepAlive):
            message["keep_alive"] = keep_alive
        try:
            reply = await worker.request(message, LOAD_TIMEOUT)
        except WorkerGone as exc:
            raise LoadFailed(f"could not load model '{model_ref}': {exc}; see the daemon's log") from exc
        except asyncio.TimeoutError:
            raise LoadFailed(
                f"loading model '{model_ref}' did not finish in {LOAD_TIMEOUT:.0f} s; see the daemon's log"
            ) from None
        error = reply.get("error")
        if error:
            kind = reply.get("error_kind", "")
            if kind in ("ModelNotFound", "UnknownModelLayout"):
                raise ModelUnknown(error)
            if kind == "ModelNotInstalled":
                raise ModelNotInstalled(error)
            raise LoadFailed(error)
        load_ms = float(reply.get("load_ms", 0.0))
        log.info("loaded model %s in %.0f ms", model_ref, load_ms)
        return load_ms

    async def unload(self, name: str) -> None:
        """Drop a loaded model in the worker; a job using it right now keeps it until it ends.

        Raises ModelUnknown when the worker has no model of that name loaded.
        """
        worker = self.worker
        if worker is None or worker.exited.is_set():
            raise ModelUnknown(f"model '{name}' is not loaded; `imagine status` lists the loaded models")
        try:
            reply = await worker.request({"op": "unload", "name": name}, UNLOAD_TIMEOUT)
        except (WorkerGone, asyncio.TimeoutError):
            return  # a worker that is gone or stuck holds nothing we could drop now
        if reply.get("error"):
            raise ModelUnknown(f"{reply['error']}; `imagine status` lists the loaded models")

    async def cancel_running(self, job_id: str) -> None:
        if job_id in self.current and self.worker is not None:
            await self.worker.send({"op": "cancel", "job_id": job_id})

    # -- jobs -------------------------------------------------------------------

    async def _run_jobs(self) -> None:
        max_size = self.config.max_batch_size
        while not self._closing:
            await self._ready.wait()
            try:
                records = await self.scheduler.next_batch(batch_key, max_size, self.config.max_batch_pixels)
            except ShuttingDown:
                return
            self.current = [r.id for r in records]
            self.state = "busy"
            try:
                await self._run(records)
            except asyncio.CancelledError:
                for record in records:
                    if record.id in self.scheduler.running:
                        await self.scheduler.requeue(record, worker_died=False)
                raise
            except Exception as exc:  # noqa: BLE001 - a bug here must fail jobs, not stop the queue
                log.exception("jobs %s: internal error", self.current)
                for record in records:
                    if record.id in self.scheduler.running:
                        await self.scheduler.finish(
                            record, t.JobState.FAILED, f"internal error in the daemon: {type(exc).__name__}: {exc}"
                        )
            finally:
                self.current = []
                if self.state == "busy":
                    self.state = "idle"

    async def _run(self, records: list[JobRecord]) -> None:
        worker = self.worker
        assert worker is not None
        jobs: list[Message] = []
        for record in records:
            try:
                jobs.append(worker_job(record, self.config, self.scheduler.inputs))
            except DaemonError as exc:  # a LoRA, VAE or ControlNet removed since the job was queued
                await self.scheduler.finish(record, t.JobState.FAILED, str(exc))
        records = [r for r in records if r.id in self.scheduler.running]
        if not records:
            return
        message = {"op": "run", **jobs[0]} if len(jobs) == 1 else {"op": "run_batch", "jobs": jobs}
        if not await worker.send(message):  # the worker died before the jobs reached it: not their fault
            self._ready.clear()
            for record in records:
                await self.scheduler.requeue(record, worker_died=False)
            return
        running = {r.id: r for r in records}
        deadlines = {r.id: time.monotonic() + r.job.spec.timeout_seconds for r in records if r.job.spec.timeout_seconds}
        for job_id in running:
            if job_id in self.scheduler.cancel_requests:
                await worker.send({"op": "cancel", "job_id": job_id})
        yield_watch = (
            asyncio.create_task(self._yield_when_outranked(worker, records[0]))
            if records[0].job.spec.kind == "train"
            else None
        )
        timed_out: set[str] = set()
        pending = set(running)  # jobs that have not ended (or yielded) yet
        try:
            while pending:
                now = time.monotonic()
                remaining = min((d - now for d in deadlines.values()), default=None)
                try:
                    message = await asyncio.wait_for(worker.job_events.get(), None if remaining is None else max(0.0, remaining))
                except asyncio.TimeoutError:
                    for job_id, deadline in list(deadlines.items()):
                        if deadline <= time.monotonic():
                            timed_out.add(job_id)
                            del deadlines[job_id]
                            await worker.send({"op": "cancel", "job_id": job_id})
                    continue
                if message is None:
                    for job_id in pending:
                        await self._worker_died(running[job_id], worker)
                    return
                job_id = message.get("job_id", "")
                if job_id not in pending:
                    continue  # another job's, or a second end of a job that already ended
                running[job_id] = await self._handle(running[job_id], message, job_id in timed_out)
                if message["ev"] in ENDS:
                    pending.discard(job_id)
        finally:
            if yield_watch is not None:
                yield_watch.cancel()

    async def _yield_when_outranked(self, worker: WorkerProcess, record: JobRecord) -> None:
        """A training job steps aside (at its next epoch boundary) once a job of a higher class waits."""
        changed = self.scheduler.changed
        async with changed:
            await changed.wait_for(lambda: self.scheduler.outranked(record))
        log.info("job %s yields to a waiting job of higher priority at its next epoch", record.id)
        await worker.send({"op": "yield", "job_id": record.id})

    async def _handle(self, record: JobRecord, message: Message, timed_out: bool) -> JobRecord:
        ev = message["ev"]
        job_id = record.id
        publish = self.scheduler.events.publish
        if ev == "started":
            timings = t.Timings(queue_ms=record.job.timings.queue_ms, load_ms=message["load_ms"])
            record = with_state(record, timings=timings)
            worker = f"worker-{self.worker.pid if self.worker else 0}"
            await publish(job_id, t.Started(worker, message["load_ms"], record.job.attempts, message.get("batch_size", 1)))
        elif ev == "progress":
            await publish(
                job_id,
                t.Progress(
                    message["step"], message["total"], message.get("preview", b""), message.get("stage", ""),
                    message.get("metrics", {}),
                ),
            )
        elif ev == "output":
            output = t.from_jsonable(t.Output, message | {"id": f"{job_id}-{message['index']}", "job_id": job_id})
            await self.scheduler.add_output(record, output)
        elif ev == "done":
            timings = t.Timings(
                queue_ms=record.job.timings.queue_ms,
                load_ms=message["load_ms"],
                run_ms=message["run_ms"],
                encode_ms=message["encode_ms"],
            )
            report = await self._report(record, message["report"]) if message.get("report") else None
            await self.scheduler.finish(record, t.JobState.SUCCEEDED, "", timings, report)
            record = with_state(record, state=t.JobState.SUCCEEDED)
        elif ev == "yielded":  # a training job stepped aside at an epoch boundary; it resumes from its checkpoint
            await self.scheduler.requeue(record, worker_died=False)
        elif ev == "cancelled":
            if timed_out:
                error = f"the job ran longer than its timeout of {record.job.spec.timeout_seconds} s and was stopped"
                await self.scheduler.finish(record, t.JobState.FAILED, error)
                record = with_state(record, state=t.JobState.FAILED)
            else:
                await self.scheduler.finish(record, t.JobState.CANCELLED, "")
                record = with_state(record, state=t.JobState.CANCELLED)
        elif ev == "failed":
            if message.get("kind") == "out_of_memory":
                log.warning("job %s ran out of device memory: %s", job_id, message["error"])
            await self.scheduler.finish(record, t.JobState.FAILED, message["error"])
            record = with_state(record, state=t.JobState.FAILED)
        return record

    async def _report(self, record: JobRecord, data: dict[str, object]) -> t.Report:
        """The job's report; a model the job made is registered first (export, train)."""
        report = t.from_jsonable(t.Report, data)
        if self.on_report is not None:
            report = await self.on_report(record.job, report, data)
        return report

    async def _worker_died(self, record: JobRecord, worker: WorkerProcess) -> None:
        await worker.exited.wait()
        how = describe_exit(worker.proc.returncode)
        deaths = record.worker_deaths + 1
        if record.id in self.scheduler.cancel_requests:
            await self.scheduler.finish(record, t.JobState.CANCELLED, "")
        elif deaths >= self.config.max_worker_deaths:
            error = (
                f"the worker process died {deaths} times while running this job (last: {how}); "
                "the job may need more memory than this machine has, or the model may be broken"
            )
            log.error("job %s failed: %s", record.id, error)
            await self.scheduler.finish(record, t.JobState.FAILED, error)
        else:
            log.warning("worker died (%s) running job %s; it goes back to the queue", how, record.id)
            await self.scheduler.requeue(record, worker_died=True)
