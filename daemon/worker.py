"""The worker process: owns the device, keeps pipelines loaded, runs one job at a time.

Started by the daemon as `python -m daemon.worker`; frames (daemon.protocol)
arrive on stdin and leave on the original stdout, which is moved aside at
start so that anything a library prints goes to stderr instead. The main
thread owns the device; a reader thread takes cancel and status requests
while a job runs. The worker exits when its stdin closes (the daemon died).
"""

from __future__ import annotations

import argparse
import dataclasses
import ctypes
import hashlib
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


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none: write a temporary name, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Worker:
    def __init__(self, out: FrameWriter, device_pref: str, models_dir: Path) -> None:
        self.out = out
        self.models_dir = models_dir
        self.jobs: queue.Queue[Message] = queue.Queue()
        self.cancelled: set[str] = set()
        self.current: str | None = None
        from diffusers.utils import logging as diffusers_logging

        from models.device import select_device
        from models.loading import PipelineCache

        diffusers_logging.disable_progress_bar()  # the daemon's log is for people, not tqdm

        self.device = select_device(device_pref)
        self.cache = PipelineCache(models_dir, self.device)

    # -- control (reader thread) ---------------------------------------------

    def read_commands(self, stream: BinaryIO) -> None:
        while (message := read_frame(stream)) is not None:
            op = message.get("op")
            if op == "run":
                self.jobs.put(message)
            elif op == "cancel":
                self.cancelled.add(message["job_id"])
            elif op == "unload":
                self.cache.unload(message["name"])
            elif op == "status":
                self.out.send(self.status())
        os._exit(0)  # the daemon is gone

    def status(self) -> Message:
        from models.device import describe_device

        return {
            "ev": "status",
            "pid": os.getpid(),
            "device": dataclasses.asdict(describe_device(self.device)),
            "loaded": [dataclasses.asdict(m) for m in self.cache.loaded()],
            "job_id": self.current,
        }

    # -- jobs (main thread) ---------------------------------------------------

    def serve(self) -> None:
        self.out.send(self.status() | {"ev": "ready"})
        while True:
            job = self.jobs.get()
            self.current = job["job_id"]
            try:
                self.run(job)
            finally:
                self.current = None
                self.cancelled.discard(job["job_id"])

    def run(self, job: Message) -> None:
        from models.errors import Cancelled, ModelError

        job_id = job["job_id"]
        try:
            self._run_txt2img(job)
        except Cancelled:
            self.out.send({"ev": "cancelled", "job_id": job_id})
        except ModelError as exc:
            self.out.send({"ev": "failed", "job_id": job_id, "error": str(exc), "kind": type(exc).__name__})
        except Exception as exc:  # noqa: BLE001 - any failure of model code fails the job, not the worker
            traceback.print_exc(file=sys.stderr)
            self.out.send(
                {"ev": "failed", "job_id": job_id, "error": f"{type(exc).__name__}: {exc}", "kind": "internal"}
            )

    def _run_txt2img(self, job: Message) -> None:
        from models.diffusion import Txt2ImgParams, txt2img
        from models.infotext import encode_png, infotext
        from models.sources import resolve_model

        job_id = job["job_id"]
        params = Txt2ImgParams(**job["params"])
        source = resolve_model(job["model"], self.models_dir)
        pipe, load_ms = self.cache.get(source)
        self.out.send({"ev": "started", "job_id": job_id, "load_ms": load_ms})

        def on_step(step: int, total: int) -> None:
            self.out.send({"ev": "progress", "job_id": job_id, "step": step, "total": total})

        started = time.perf_counter()
        images = txt2img(pipe, params, on_step=on_step, should_cancel=lambda: job_id in self.cancelled)
        run_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        out_dir = Path(job["output_dir"])
        out_dir.mkdir(parents=True, exist_ok=True)
        parameters = infotext(params, source.name)
        for index, image in enumerate(images):
            data = encode_png(image, parameters, job["spec_json"])
            path = out_dir / f"{job_id}-{index}.png"
            write_atomically(path, data)
            self.out.send(
                {
                    "ev": "output",
                    "job_id": job_id,
                    "index": index,
                    "seed": params.seed + index,
                    "width": image.width,
                    "height": image.height,
                    "path": str(path),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size_bytes": len(data),
                }
            )
        encode_ms = (time.perf_counter() - started) * 1000
        self.out.send(
            {"ev": "done", "job_id": job_id, "load_ms": load_ms, "run_ms": run_ms, "encode_ms": encode_ms}
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m daemon.worker")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when we stop
    frames_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = FrameWriter(frames_out)
    try:
        worker = Worker(out, args.device, args.models_dir)
    except Exception as exc:  # noqa: BLE001 - report why the worker cannot start, then exit
        out.send({"ev": "fatal", "error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(3) from exc
    reader = threading.Thread(target=worker.read_commands, args=(sys.stdin.buffer,), daemon=True)
    reader.start()
    worker.serve()


if __name__ == "__main__":
    main()
