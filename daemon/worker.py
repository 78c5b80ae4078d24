"""The worker process: owns the device, keeps pipelines loaded, runs one job at a time.

Started by the daemon as `python -m daemon.worker`; frames (daemon.protocol)
arrive on stdin and leave on the original stdout, which is moved aside at
start so that anything a library prints goes to stderr instead. The main
thread owns the device and runs jobs and model loads, in the order they
arrive; a reader thread takes cancel, status and unload requests while a job
runs, and a keep-alive thread unloads models that have been idle too long.
Requests that want an answer carry a "request_id"; the answer is a status
frame with "reply_to" set to it and "error" (None on success). The worker
exits when its stdin closes (the daemon died).
"""

from __future__ import annotations

import argparse
import dataclasses
import ctypes
import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from daemon.protocol import FrameWriter, Message, read_frame


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL us when the daemon dies, so no orphan holds the GPU."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclasses.dataclass(frozen=True)
class CacheSettings:
    budget_bytes: int = 0  # 0 = automatic
    keep_alive: float | None = 300.0  # None = forever
    cpu_tier: bool = True  # only used on CUDA
    cpu_tier_budget_bytes: int = 0  # 0 = automatic
    expiry_interval: float = 1.0


class Worker:
    def __init__(
        self, out: FrameWriter, device_pref: str, models_dir: Path, settings: CacheSettings | None = None
    ) -> None:
        self.out = out
        self.models_dir = models_dir
        self.settings = settings or CacheSettings()
        self.jobs: queue.Queue[Message] = queue.Queue()  # "run" and "load", in arrival order
        self.cancelled: set[str] = set()
        self.yields: set[str] = set()
        self.current: list[str] = []
        from diffusers.utils import logging as diffusers_logging

        from models.device import select_device
        from models.loading import PipelineCache

        diffusers_logging.disable_progress_bar()  # the daemon's log is for people, not tqdm

        self.device = select_device(device_pref)
        s = self.settings
        self.cache = PipelineCache(
            models_dir,
            self.device,
            budget_bytes=s.budget_bytes,
            keep_alive=s.keep_alive,
            cpu_tier=s.cpu_tier,
            cpu_budget_bytes=s.cpu_tier_budget_bytes,
        )
        from daemon.worker_generate import GenerationRunner
        from daemon.worker_vision import VisionRunner

        self.generation = GenerationRunner(out, self.cache, models_dir, lambda job_id: job_id in self.cancelled)
        self.vision = VisionRunner(out, models_dir, self.device, lambda job_id: job_id in self.cancelled, self.yields)

    # -- control (reader thread) ---------------------------------------------

    def read_commands(self, stream: BinaryIO) -> None:
        while (message := read_frame(stream)) is not None:
            op = message.get("op")
            if op in ("run", "run_batch", "load"):  # all need the device: the main thread, between jobs
                self.jobs.put(message)
            elif op == "cancel":
                self.cancelled.add(message["job_id"])
            elif op == "yield":  # a training job should step aside at its next epoch boundary
                self.yields.add(message["job_id"])
            elif op == "unload":
                self.unload(message)
            elif op == "status":
                self.out.send(self.status() | self._reply(message))
        os._exit(0)  # the daemon is gone

    @staticmethod
    def _reply(message: Message, error: str | None = None, **extra: Any) -> Message:
        if "request_id" not in message:
            return {}
        return {"reply_to": message["request_id"], "error": error, **extra}

    def unload(self, message: Message) -> None:
        name = message["name"]
        error = None if self.cache.unload(name) else f"model '{name}' is not loaded"
        self.out.send(self.status() | self._reply(message, error))

    def expire_models(self) -> None:
        """Keep-alive thread: unload idle models whose keep-alive ran out."""
        while True:
            time.sleep(self.settings.expiry_interval)
            try:
                self.cache.expire()
            except Exception:  # noqa: BLE001 - never let the keep-alive thread die
                traceback.print_exc(file=sys.stderr)

    def status(self) -> Message:
        from models.device import describe_device

        return {
            "ev": "status",
            "pid": os.getpid(),
            "device": dataclasses.asdict(describe_device(self.device)),
            "loaded": [dataclasses.asdict(m) for m in self.cache.loaded()],
            "budget_bytes": self.cache.budget_bytes,
            "cpu_tier_budget_bytes": self.cache.cpu_budget_bytes,
            "job_id": ",".join(self.current),
        }

    # -- jobs (main thread) ---------------------------------------------------

    def serve(self) -> None:
        self.out.send(self.status() | {"ev": "ready"})
        while True:
            job = self.jobs.get()
            if job.get("op") == "load":
                self.load(job)
                continue
            self.current = [j["job_id"] for j in job.get("jobs", [job])]
            try:
                self.run(job)
            finally:
                self.cancelled.difference_update(self.current)
                self.yields.difference_update(self.current)
                self.current = []
                self.out.send(self.status())  # what is loaded now, for the scheduler's next pick

    def load(self, message: Message) -> None:
        from models.errors import ModelError
        from models.loading import DEFAULT
        from models.sources import resolve_model

        keep_alive = message.get("keep_alive", DEFAULT)  # absent = the default; None = forever
        try:
            source = resolve_model(message["model"], self.models_dir)
            load_ms = self.cache.load(source, keep_alive)
        except ModelError as exc:
            reply = self._reply(message, str(exc), load_ms=0.0, error_kind=type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - a broken model fails the request, not the worker
            traceback.print_exc(file=sys.stderr)
            reply = self._reply(message, f"{type(exc).__name__}: {exc}", load_ms=0.0, error_kind="internal")
        else:
            reply = self._reply(message, None, load_ms=load_ms)
        self.out.send(self.status() | reply)

    def run(self, message: Message) -> None:
        """A "run" (one job) or "run_batch" (compatible generation jobs together); every job ends with one
        of done, cancelled or failed (the daemon ignores a second end for a job that already ended)."""
        from models.errors import Cancelled, ModelError, OutOfDeviceMemory

        jobs: list[Message] = message["jobs"] if message["op"] == "run_batch" else [message]

        def fail_all(ev: dict[str, Any]) -> None:
            for job in jobs:
                self.out.send(ev | {"job_id": job["job_id"]})

        try:
            self._dispatch(jobs)
        except Cancelled:
            fail_all({"ev": "cancelled"})
        except OutOfDeviceMemory as exc:
            fail_all({"ev": "failed", "error": str(exc), "kind": "out_of_memory"})
        except ModelError as exc:
            fail_all({"ev": "failed", "error": str(exc), "kind": type(exc).__name__})
        except Exception as exc:  # noqa: BLE001 - any failure of model code fails the job, not the worker
            traceback.print_exc(file=sys.stderr)
            fail_all({"ev": "failed", "error": f"{type(exc).__name__}: {exc}", "kind": "internal"})

    def _config_folder(self, config: str) -> str:
        from models.builtin import BUILTIN_MODELS, ensure_builtin

        return str(ensure_builtin(config, self.models_dir)) if config in BUILTIN_MODELS else config

    def _dispatch(self, jobs: list[Message]) -> None:
        from models.sources import resolve_model

        kind = jobs[0]["kind"]
        if kind == "generate":
            source = resolve_model(jobs[0]["model"], self.models_dir)
            if jobs[0].get("model_config"):
                source = dataclasses.replace(source, config=self._config_folder(jobs[0]["model_config"]))
            self.generation.run(source, jobs)
        else:
            (job,) = jobs
            self.vision.run(job)


def parse_keep_alive(text: str) -> float | None:
    """Seconds, or "forever"/"none"/a negative number for never."""
    if text.strip().lower() in ("forever", "none", "inf", "never"):
        return None
    value = float(text)
    return None if value < 0 else value


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not '{text}'")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m daemon.worker")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--memory-budget-bytes", type=int, default=0, help="0 = automatic")
    parser.add_argument("--keep-alive-seconds", type=parse_keep_alive, default=300.0, help='seconds or "forever"')
    parser.add_argument("--cpu-tier", type=parse_bool, default=True, help="CUDA only: evicted models go to CPU RAM")
    parser.add_argument("--cpu-tier-budget-bytes", type=int, default=0, help="0 = automatic")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s worker %(name)s: %(message)s", stream=sys.stderr
    )
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when we stop
    frames_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = FrameWriter(frames_out)
    try:
        settings = CacheSettings(
            budget_bytes=args.memory_budget_bytes,
            keep_alive=args.keep_alive_seconds,
            cpu_tier=args.cpu_tier,
            cpu_tier_budget_bytes=args.cpu_tier_budget_bytes,
        )
        worker = Worker(out, args.device, args.models_dir, settings)
    except Exception as exc:  # noqa: BLE001 - report why the worker cannot start, then exit
        out.send({"ev": "fatal", "error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(3) from exc
    reader = threading.Thread(target=worker.read_commands, args=(sys.stdin.buffer,), daemon=True)
    reader.start()
    threading.Thread(target=worker.expire_models, name="keep-alive", daemon=True).start()
    worker.serve()


if __name__ == "__main__":
    main()
