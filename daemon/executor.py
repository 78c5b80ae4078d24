"""Runs queued jobs on the worker process and keeps a worker alive.

A worker that dies (kill -9, segfault, CUDA abort) is replaced; the job it was
running goes back to the queue once and fails with the reason the second time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time

from imagine import types as t
from daemon.config import Config
from daemon.errors import LoadFailed, ModelNotInstalled, ModelUnknown, ShuttingDown
from daemon.protocol import Message
from daemon.scheduler import Scheduler
from daemon.store import JobRecord, with_state
from daemon.worker_process import CacheOptions, WorkerGone, WorkerProcess, WorkerStartError, describe_exit

log = logging.getLogger(__name__)
LOAD_TIMEOUT = 900.0  # a load waits for the running job, then may read gigabytes from disk
UNLOAD_TIMEOUT = 30.0


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
        self.current: str | None = None
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
        if self.current == job_id and self.worker is not None:
            await self.worker.send({"op": "cancel", "job_id": job_id})

    # -- jobs -------------------------------------------------------------------

    async def _run_jobs(self) -> None:
        while not self._closing:
            await self._ready.wait()
            try:
                record = await self.scheduler.next_job()
            except ShuttingDown:
                return
            self.current = record.id
            self.state = "busy"
            try:
                await self._run(record)
            except asyncio.CancelledError:
                await self.scheduler.requeue(record, worker_died=False)
                raise
            except Exception as exc:  # noqa: BLE001 - a bug here must fail one job, not stop the queue
                log.exception("job %s: internal error", record.id)
                if record.id in self.scheduler.running:
                    await self.scheduler.finish(
                        record, t.JobState.FAILED, f"internal error in the daemon: {type(exc).__name__}: {exc}"
                    )
            finally:
                self.current = None
                if self.state == "busy":
                    self.state = "idle"

    async def _run(self, record: JobRecord) -> None:
        worker = self.worker
        assert worker is not None
        job = record.job
        task = job.spec.task
        sent = await worker.send(
            {
                "op": "run",
                "job_id": job.id,
                "model": job.spec.model,
                "params": dataclasses.asdict(task),
                # the recipe embedded in each PNG: everything that shapes the pixels, not the request's bookkeeping
                "spec_json": json.dumps(t.to_jsonable(dataclasses.replace(job.spec, request_id="")), sort_keys=True),
                "output_dir": str(self.config.outputs_dir / time.strftime("%Y-%m-%d", time.localtime(job.created_at))),
            }
        )
        if not sent:  # the worker died before this job reached it: not the job's fault
            self._ready.clear()
            await self.scheduler.requeue(record, worker_died=False)
            return
        if job.id in self.scheduler.cancel_requests:
            await worker.send({"op": "cancel", "job_id": job.id})
        deadline = time.monotonic() + job.spec.timeout_seconds if job.spec.timeout_seconds else None
        timed_out = False
        while True:
            try:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                message = await asyncio.wait_for(worker.job_events.get(), remaining)
            except asyncio.TimeoutError:
                timed_out, deadline = True, None
                await worker.send({"op": "cancel", "job_id": job.id})
                continue
            if message is None:
                await self._worker_died(record, worker)
                return
            if message.get("job_id") != job.id:
                continue
            record = await self._handle(record, message, timed_out)
            if record.job.state.terminal:
                return

    async def _handle(self, record: JobRecord, message: Message, timed_out: bool) -> JobRecord:
        ev = message["ev"]
        job_id = record.id
        publish = self.scheduler.events.publish
        if ev == "started":
            timings = t.Timings(queue_ms=record.job.timings.queue_ms, load_ms=message["load_ms"])
            record = with_state(record, timings=timings)
            await publish(job_id, t.Started(f"worker-{self.worker.pid if self.worker else 0}", message["load_ms"], record.job.attempts))
        elif ev == "progress":
            await publish(job_id, t.Progress(message["step"], message["total"]))
        elif ev == "output":
            fields = {k: message[k] for k in ("index", "seed", "width", "height", "path", "sha256", "size_bytes")}
            await self.scheduler.add_output(record, t.Output(id=f"{job_id}-{message['index']}", job_id=job_id, **fields))
        elif ev == "done":
            timings = t.Timings(
                queue_ms=record.job.timings.queue_ms,
                load_ms=message["load_ms"],
                run_ms=message["run_ms"],
                encode_ms=message["encode_ms"],
            )
            await self.scheduler.finish(record, t.JobState.SUCCEEDED, "", timings)
            record = with_state(record, state=t.JobState.SUCCEEDED)
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
