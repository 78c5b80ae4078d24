"""The daemon's handle on one worker child process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from daemon.protocol import Message, encode, read_frame_async

log = logging.getLogger(__name__)
READY_TIMEOUT = 600.0
# No download or loading progress bars in the daemon's log; library warnings still show.
WORKER_ENV = {
    "PYTHONUNBUFFERED": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DIFFUSERS_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}  # first start imports torch and may build the tiny model


@dataclass(frozen=True)
class CacheOptions:
    """The worker's model cache settings (daemon.config), passed on its command line."""

    memory_budget_bytes: int = 0  # 0 = automatic
    keep_alive_seconds: float | None = 300.0  # None = forever
    cpu_tier: bool = True
    cpu_tier_budget_bytes: int = 0  # 0 = automatic

    def args(self) -> list[str]:
        keep_alive = "forever" if self.keep_alive_seconds is None else repr(float(self.keep_alive_seconds))
        return [
            "--memory-budget-bytes",
            str(int(self.memory_budget_bytes)),
            "--keep-alive-seconds",
            keep_alive,
            "--cpu-tier",
            "1" if self.cpu_tier else "0",
            "--cpu-tier-budget-bytes",
            str(int(self.cpu_tier_budget_bytes)),
        ]


class WorkerGone(Exception):
    """The worker exited before it answered a request."""


class WorkerStartError(Exception):
    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal  # the worker itself said it cannot run (bad device, broken install)


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class WorkerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.job_events: asyncio.Queue[Message | None] = asyncio.Queue()
        self.last_status: Message = {}
        self._status_waiters: list[asyncio.Future[Message]] = []  # the next ready/status frame, whatever asked
        self._requests: dict[str, asyncio.Future[Message]] = {}  # request_id -> the frame that replies to it
        self.exited = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, device: str, models_dir: Path, cache: CacheOptions | None = None) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "daemon.worker",
            "--device",
            device,
            "--models-dir",
            str(models_dir),
            *(cache or CacheOptions()).args(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ | WORKER_ENV,
        )
        worker = cls(proc)
        try:
            first = await worker._first_message()
        except BaseException:  # cancelled while starting (daemon stopping): leave no orphan
            await asyncio.shield(worker.kill())
            raise
        if first.get("ev") == "ready":
            worker.last_status = first
            return worker
        await worker.kill()
        if first.get("ev") == "fatal":
            raise WorkerStartError(f"the worker cannot start: {first['error']}", fatal=True)
        raise WorkerStartError(
            f"the worker exited while starting ({describe_exit(proc.returncode)}); see the log above",
            fatal=False,
        )

    async def _first_message(self) -> Message:
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._status_waiters.append(waiter)
        exited = asyncio.ensure_future(self.exited.wait())
        done, _ = await asyncio.wait({waiter, exited}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        return waiter.result() if waiter in done else {}

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while (message := await read_frame_async(self.proc.stdout)) is not None:
                if message.get("ev") in ("ready", "status", "fatal"):
                    self.last_status = message if message["ev"] != "fatal" else self.last_status
                    waiters, self._status_waiters = self._status_waiters, []
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(message)
                    request = self._requests.pop(message.get("reply_to") or "", None)
                    if request is not None and not request.done():
                        request.set_result(message)
                else:
                    self.job_events.put_nowait(message)
        finally:
            await self.proc.wait()
            self.exited.set()
            self.job_events.put_nowait(None)
            requests, self._requests = self._requests, {}
            for request in requests.values():
                if not request.done():
                    request.set_exception(WorkerGone(f"the worker exited ({describe_exit(self.proc.returncode)})"))

    async def send(self, message: Message) -> bool:
        """False when the worker is gone."""
        stdin = self.proc.stdin
        if stdin is None or self.exited.is_set():
            return False
        try:
            stdin.write(encode(message))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    async def request(self, message: Message, timeout: float) -> Message:
        """Send message with a fresh request_id; the status frame that replies to it.

        Raises WorkerGone when the worker is (or goes) away first, asyncio.TimeoutError after timeout.
        """
        request_id = uuid.uuid4().hex
        reply: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._requests[request_id] = reply
        try:
            if not await self.send(message | {"request_id": request_id}):
                raise WorkerGone(f"the worker is not running ({describe_exit(self.proc.returncode)})")
            return await asyncio.wait_for(reply, timeout)
        finally:
            self._requests.pop(request_id, None)

    async def status(self, timeout: float = 2.0) -> Message:
        """A fresh status from the worker, or the last one if it does not answer in time."""
        try:
            return await self.request({"op": "status"}, timeout)
        except (WorkerGone, asyncio.TimeoutError):
            return self.last_status

    async def kill(self) -> None:
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        await self.proc.wait()

    async def stop(self, grace: float = 5.0) -> None:
        """Close stdin (the worker exits by itself), then kill after `grace` seconds."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except asyncio.TimeoutError:
            await self.kill()
