"""The daemon's handle on one worker child process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
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
        self._status_waiters: list[asyncio.Future[Message]] = []
        self.exited = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, device: str, models_dir: Path) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "daemon.worker",
            "--device",
            device,
            "--models-dir",
            str(models_dir),
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
                else:
                    self.job_events.put_nowait(message)
        finally:
            await self.proc.wait()
            self.exited.set()
            self.job_events.put_nowait(None)

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

    async def status(self, timeout: float = 2.0) -> Message:
        """A fresh status from the worker, or the last one if it does not answer in time."""
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._status_waiters.append(waiter)
        if await self.send({"op": "status"}):
            try:
                return await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except asyncio.TimeoutError:
                pass
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
